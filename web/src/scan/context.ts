// The scanner's session (staff tokens, kept on the device by default: the
// phone is the inspector's) and API client (no subscriptions).
import { createSession } from '@/api/session'
import { createApiClient } from '@/api/client'

export const session = createSession('hc.scan.session')
export const client = createApiClient({ session })
