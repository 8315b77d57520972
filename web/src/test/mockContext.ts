// The context module (API client and session) of a page's component tests,
// answered by handlers keyed by operation name (mockClient) and recording
// every operation it is asked. A test file replaces its entry's context with
// it and sets the answers before each test:
//
//   import { api } from '@/test/mockContext'
//   vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))
//   beforeEach(() => { api.calls.length = 0; api.handlers = { ConsoleMe: () => ({ me: ... }) } })
//
// An operation without a handler answers an empty result, or with strict
// mockClient's error (no handler for …).
import { createSession } from '@/api/session'
import { gqlError, mockClient, type Handlers } from './mockClient'

export type Handler = (variables: Record<string, unknown>) => unknown

/** The answers per operation name, and the operations asked, in order, with their variables. */
export const api = {
  handlers: {} as Record<string, Handler>,
  calls: [] as [string, Record<string, unknown>][],
}

/**
 * A client that answers from api and records every operation in api.calls;
 * strict: an operation without a handler is an error (no handler for …).
 */
export function apiClient({ strict = false } = {}) {
  const handlers = new Proxy({}, {
    get: (_, k: string) => (v: Record<string, unknown>) => {
      api.calls.push([k, v])
      const h = api.handlers[k]
      if (h) return h(v)
      return strict ? gqlError('INTERNAL', `no handler for ${k}`) : {}
    },
  })
  return mockClient(handlers as Handlers).client
}

/** A context module whose client is apiClient(options), with a session stored under sessionKey. */
export function mockContext(sessionKey: string, options: { strict?: boolean } = {}) {
  return { client: apiClient(options), session: createSession(sessionKey) }
}
