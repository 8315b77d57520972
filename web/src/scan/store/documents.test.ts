// The cached documents: a 200 replaces the cache and builds a verifier, a
// 304 keeps the body and confirms it (its age starts again), an invalid or
// older document never replaces the last good copy, and a check refuses a key
// set older than 7 days and flags paper codes under an old revocation list.
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { resetDatabase } from './db'
import { age, docs, loadDocuments, refreshDocument } from './documents'
import { checkToken } from '../check'

const v = JSON.parse(readFileSync(resolve(process.cwd(), '..', 'credential', 'testdata', 'scanner-vectors.json'), 'utf8'))
const keysBody = JSON.stringify(v.keySet)
const revBody = JSON.stringify(v.revocations)
const token = (name: string) => v.tokens.find((x: { name: string }) => x.name === name).token as string

function server(answers: Record<string, () => Response>) {
  const seen: { url: string; etag: string | null }[] = []
  const f = vi.fn(async (url: string, init?: RequestInit) => {
    seen.push({ url, etag: (init?.headers as Record<string, string>)?.['If-None-Match'] ?? null })
    return answers[url.includes('keys') ? 'keys' : 'revocations']!()
  }) as unknown as typeof fetch
  return { f, seen }
}

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory()
  resetDatabase()
  docs.keys = docs.revocations = docs.verifier = null
  docs.offsetMs = 0
  vi.useRealTimers()
})

describe('documents', () => {
  it('caches, revalidates with the ETag, and keeps the last good copy', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse(v.now))
    const ok = server({ keys: () => new Response(keysBody, { headers: { ETag: '"k1"' } }), revocations: () => new Response(revBody, { headers: { ETag: '"r1"' } }) })
    expect(await refreshDocument('keys', ok.f)).toBe(true)
    expect(await refreshDocument('revocations', ok.f)).toBe(true)
    expect(docs.verifier).not.toBeNull()
    expect((await checkToken(token('valid electronic green'))).ok).toBe(true)
    expect((await checkToken(token('revoked by jti'))).reason).toBe('REVOKED')

    vi.setSystemTime(Date.parse(v.now) + 3600_000)
    const notModified = server({ keys: () => new Response(null, { status: 304 }), revocations: () => new Response(null, { status: 304 }) })
    expect(await refreshDocument('keys', notModified.f)).toBe(true)
    expect(notModified.seen[0]!.etag).toBe('"k1"')
    expect(age(docs.keys)).toBe(0)

    const bad = server({ keys: () => new Response('{"issuers":[],"keys":[],"generatedAt":"x"}'), revocations: () => new Response('nope') })
    expect(await refreshDocument('keys', bad.f)).toBe(false)
    expect(await refreshDocument('revocations', bad.f)).toBe(false)
    const older = JSON.stringify({ ...v.keySet, generatedAt: '2020-03-01T00:00:00Z' })
    expect(await refreshDocument('keys', server({ keys: () => new Response(older), revocations: () => new Response(revBody) }).f)).toBe(false)
    expect(docs.keys!.body).toBe(keysBody)

    // A new page starts from the database.
    docs.keys = docs.revocations = docs.verifier = null
    resetDatabase()
    await loadDocuments()
    vi.setSystemTime(Date.parse(v.now))
    expect(docs.keys!.etag).toBe('"k1"')
    expect((await checkToken(token('valid foreign issuer (trusted)'))).issuerName).toBe('湖北省')
  })

  it('refuses a key set older than 7 days and flags paper codes under an old revocation list', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse(v.now))
    expect((await checkToken(token('valid electronic green'))).reason).toBe('KEYS_MISSING')
    const ok = server({ keys: () => new Response(keysBody), revocations: () => new Response(revBody) })
    await refreshDocument('keys', ok.f)
    await refreshDocument('revocations', ok.f)
    docs.revocations = { ...docs.revocations!, confirmedAt: Date.parse(v.now) - 25 * 3600_000, generatedAt: Date.parse(v.now) - 25 * 3600_000 }
    const paper = await checkToken(token('valid paper yellow, escaped name'))
    expect(paper).toMatchObject({ ok: true, flagged: true, message: '作废名单未及时更新，请人工核验' })
    expect((await checkToken(token('valid electronic green'))).flagged).toBe(false)
    docs.keys = { ...docs.keys!, confirmedAt: Date.parse(v.now) - 8 * 86400_000, generatedAt: Date.parse(v.now) - 8 * 86400_000 }
    expect(await checkToken(token('valid electronic green'))).toMatchObject({ ok: false, reason: 'KEYS_STALE', message: '验码密钥已过期，请联网更新' })
  })

  it('learns the server clock from the Date header and verifies with it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse(v.now) - 3600_000) // the phone is an hour behind
    const f = server({ keys: () => new Response(keysBody, { headers: { Date: new Date(Date.parse(v.now)).toUTCString() } }), revocations: () => new Response(revBody) }).f
    await refreshDocument('keys', f)
    expect(Math.abs(docs.offsetMs - 3600_000)).toBeLessThan(2000)
    expect((await checkToken(token('valid electronic green'))).ok).toBe(true)
  })
})
