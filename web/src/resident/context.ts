// The resident entry's session and API client (one of each per page load).
import { createSession } from '@/api/session'
import { createApiClient } from '@/api/client'

export const session = createSession('hc.resident.session')
export const client = createApiClient({ session })
