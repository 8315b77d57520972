// The urql client shared by every entry: bearer token from the session,
// the session ended on 401 / UNAUTHENTICATED, and (for pages that need them)
// subscriptions over graphql-ws, loaded only when the first one starts.
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type Exchange } from '@urql/core'
import type { Session } from './session'
import { isUnauthenticated } from './errors'

export interface ClientOptions {
  session: Session
  /** Add the subscription exchange (graphql-transport-ws at /graphql). */
  subscriptions?: boolean
  url?: string
}

export function createApiClient({ session, subscriptions = false, url = '/graphql' }: ClientOptions): Client {
  const exchanges: Exchange[] = [
    cacheExchange,
    mapExchange({
      onError(error, operation) {
        // A login with a wrong code also answers UNAUTHENTICATED: only a
        // request that carried a token ends the session. A signed-in call
        // that checks a code of its own (verifyStaffPhone) says so with
        // context { keepSession: true }: its wrong code keeps the session,
        // which then ends only on HTTP 401.
        if (operation.context.keepSession && (error.response as Response | undefined)?.status !== 401) return
        if (isUnauthenticated(error) && operation.context.fetchOptions && hasAuth(operation.context.fetchOptions)) {
          session.end('expired')
        }
      },
    }),
    fetchExchange,
  ]
  if (subscriptions) exchanges.push(wsExchange(session, url))
  return new Client({
    url,
    exchanges,
    requestPolicy: 'cache-and-network',
    preferGetMethod: false,
    fetchOptions: () => {
      const token = session.token()
      return token ? { headers: { Authorization: `Bearer ${token}` } } : {}
    },
  })
}

function hasAuth(fo: RequestInit | (() => RequestInit)): boolean {
  const o = typeof fo === 'function' ? fo() : fo
  return !!o.headers && 'Authorization' in (o.headers as Record<string, string>)
}

function wsExchange(session: Session, url: string): Exchange {
  type WsClient = import('graphql-ws').Client
  let ws: Promise<WsClient> | null = null
  session.onEnd(() => {
    void ws?.then((c) => c.dispose())
    ws = null
  })
  const connect = () =>
    (ws ??= import('graphql-ws').then(({ createClient }) => {
      const loc = window.location
      return createClient({
        url: `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${url}`,
        lazy: true,
        retryAttempts: Infinity,
        connectionParams: () => {
          const token = session.token()
          return token ? { Authorization: `Bearer ${token}` } : {}
        },
      })
    }))
  return subscriptionExchange({
    forwardSubscription(request) {
      const input = { ...request, query: request.query ?? '' }
      return {
        subscribe(sink) {
          let unsubscribe = () => {}
          let closed = false
          void connect().then((c) => {
            if (!closed) unsubscribe = c.subscribe(input, sink)
          })
          return {
            unsubscribe() {
              closed = true
              unsubscribe()
            },
          }
        },
      }
    },
  })
}
