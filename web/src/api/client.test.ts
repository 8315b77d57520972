import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApiClient } from './client'
import { createSession } from './session'
import { MeDocument } from './generated/graphql'

describe('API client', () => {
  beforeEach(() => localStorage.clear())
  afterEach(() => vi.unstubAllGlobals())

  function respond(status: number, body: unknown) {
    const fetch = vi.fn(async (_url: string, init: RequestInit) => {
      void init
      return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    })
    vi.stubGlobal('fetch', fetch)
    return fetch
  }

  it('sends the bearer token and ends the session on 401', async () => {
    const session = createSession('c')
    session.start({ token: 'hcr_t', expiresAt: new Date(Date.now() + 3600_000).toISOString(), kind: 'RESIDENT', name: 'x' }, true)
    const ended: string[] = []
    session.onEnd((r) => ended.push(r))
    const fetch = respond(401, { errors: [{ message: '登录已失效，请重新登录', extensions: { code: 'UNAUTHENTICATED' } }] })
    const client = createApiClient({ session, url: 'http://localhost/graphql' })
    const res = await client.query(MeDocument, {}).toPromise()
    expect((fetch.mock.calls[0]![1].headers as Record<string, string>).authorization).toBe('Bearer hcr_t')
    expect(res.error).toBeDefined()
    expect(ended).toEqual(['expired'])
    expect(session.token()).toBeNull()
  })

  it('keeps the session on other errors, and sends no token without one', async () => {
    const session = createSession('c')
    const fetch = respond(200, { data: null, errors: [{ message: '验证码错误或已过期', extensions: { code: 'UNAUTHENTICATED' } }] })
    const client = createApiClient({ session, url: 'http://localhost/graphql' })
    await client.query(MeDocument, {}).toPromise()
    expect((fetch.mock.calls[0]![1].headers as Record<string, string>).authorization).toBeUndefined()

    session.start({ token: 'hcr_t', expiresAt: new Date(Date.now() + 3600_000).toISOString(), kind: 'RESIDENT', name: 'x' }, true)
    respond(200, { data: null, errors: [{ message: '未找到健康码，请先申报', extensions: { code: 'NOT_FOUND' } }] })
    await client.query(MeDocument, {}, { requestPolicy: 'network-only' }).toPromise()
    expect(session.token()).toBe('hcr_t')
  })

  it('keeps the session when a call that checks its own code (keepSession) answers UNAUTHENTICATED', async () => {
    const session = createSession('c')
    session.start({ token: 'hcs_t', expiresAt: new Date(Date.now() + 3600_000).toISOString(), kind: 'STAFF', name: 'x' }, true)
    const ended: string[] = []
    session.onEnd((r) => ended.push(r))
    const client = createApiClient({ session, url: 'http://localhost/graphql' })
    respond(200, { data: null, errors: [{ message: '验证码错误或已过期', extensions: { code: 'UNAUTHENTICATED' } }] })
    const res = await client.query(MeDocument, {}, { requestPolicy: 'network-only', keepSession: true }).toPromise()
    expect(res.error?.graphQLErrors[0]?.message).toBe('验证码错误或已过期')
    expect(ended).toEqual([])
    expect(session.token()).toBe('hcs_t')

    // A 401 ends it even with keepSession.
    respond(401, { errors: [{ message: '登录已失效，请重新登录', extensions: { code: 'UNAUTHENTICATED' } }] })
    await client.query(MeDocument, {}, { requestPolicy: 'network-only', keepSession: true }).toPromise()
    expect(ended).toEqual(['expired'])
  })
})
