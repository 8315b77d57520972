import { describe, expect, it, vi } from 'vitest'
import { gql } from '@urql/core'
import { pipe, subscribe } from 'wonka'

const ws = vi.hoisted(() => ({
  options: null as null | { url: string; connectionParams: () => Record<string, string> },
  disposed: 0,
  subscribed: [] as string[],
}))
vi.mock('graphql-ws', () => ({
  createClient(options: typeof ws.options) {
    ws.options = options
    return {
      subscribe(req: { query: string }, sink: { next: (v: unknown) => void }) {
        ws.subscribed.push(req.query)
        sink.next({ data: { ticketQueue: { id: '1' } } })
        return () => {}
      },
      dispose() {
        ws.disposed++
      },
    }
  },
}))

import { createApiClient } from './client'
import { createSession } from './session'

describe('subscriptions', () => {
  it('go over graphql-ws with the bearer token in connection_init, loaded on first use and closed with the session', async () => {
    const session = createSession('ws')
    session.start({ token: 'hcs_t', expiresAt: new Date(Date.now() + 3600_000).toISOString(), kind: 'STAFF', name: 'operator' }, false)
    const client = createApiClient({ session, subscriptions: true })
    expect(ws.options).toBeNull() // nothing loaded before a subscription starts
    const values: unknown[] = []
    const { unsubscribe } = pipe(
      client.subscription(gql`subscription Q { ticketQueue { id } }`, {}),
      subscribe((r) => values.push(r.data)),
    )
    await vi.waitFor(() => expect(values).toEqual([{ ticketQueue: { id: '1' } }]))
    expect(ws.options!.url).toBe(`ws://${window.location.host}/graphql`)
    expect(ws.options!.connectionParams()).toEqual({ Authorization: 'Bearer hcs_t' })
    expect(ws.subscribed[0]).toContain('ticketQueue')
    unsubscribe()
    session.end('logout')
    await vi.waitFor(() => expect(ws.disposed).toBe(1))
  })
})
