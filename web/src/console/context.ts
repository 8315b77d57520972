// The console's session (staff tokens) and API client, with subscriptions
// (the live ticket queue of part 2).
import { createSession } from '@/api/session'
import { createApiClient } from '@/api/client'

export const session = createSession('hc.console.session')
export const client = createApiClient({ session, subscriptions: true })
