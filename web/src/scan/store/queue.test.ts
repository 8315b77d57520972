// The offline queue: scans wait in IndexedDB with their tokens encrypted,
// survive a new page (a fresh connection to the same database), upload
// oldest first in batches with each answer kept, and stay pending when the
// upload fails.
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it } from 'vitest'
import { mockClient, gqlError } from '@/test/mockClient'
import { database, resetDatabase } from './db'
import { addScan, countPending, queue, recentScans, uploadPending, BATCH_SIZE, type NewScan } from './queue'

const scan = (token: string, temperature: number | null = 36.5): NewScan => ({
  token, scannedAt: '2026-12-03T09:30:00+08:00', temperature, role: 'VISITOR', venueId: '7', venueName: '超市',
  fever: temperature !== null && temperature > 37.3, local: { ok: true, colour: 'GREEN', maskedName: '张*' },
})

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
  resetDatabase()
})

describe('offline queue', () => {
  it('keeps tokens encrypted at rest and survives a new page', async () => {
    const q = await addScan(scan('eyJ.secret-token.sig'))
    expect(q.scanId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const raw = await (await database()).get('scans', q.scanId)
    expect(JSON.stringify(raw)).not.toContain('secret-token')
    expect(new TextDecoder().decode(new Uint8Array(raw!.tokenCipher!))).not.toContain('secret-token')
    resetDatabase() // a reload: a new connection to the same database
    expect(await countPending()).toBe(1)
    expect((await recentScans())[0]!.scanId).toBe(q.scanId)
  })

  it('uploads oldest first and keeps each answer, dropping the token', async () => {
    const a = await addScan(scan('tok-a', 38.6))
    const b = await addScan(scan('tok-b'))
    const c = await addScan(scan('tok-c'))
    const { client, calls } = mockClient({
      RecordScans: (v) => {
        const scans = v.scans as { scanId: string; token: string; temperature: number }[]
        return {
          recordScans: scans.map((s) => ({
            scanId: s.scanId, status: s.token === 'tok-b' ? 'REJECTED' : s.token === 'tok-c' ? 'DUPLICATE' : 'ACCEPTED',
            reason: s.token === 'tok-b' ? 'REVOKED' : '', message: s.token === 'tok-b' ? '健康码已作废，请出示最新的健康码' : '',
            colour: s.token === 'tok-a' ? 'YELLOW' : '', maskedName: '张*', fever: s.temperature > 37.3,
          })),
        }
      },
    })
    expect(await uploadPending(client)).toBe('done')
    const sent = calls[0]!.variables.scans as { scanId: string; token: string; scannedAt: string; temperature: number; role: string; venueId: string }[]
    expect(sent.map((s) => s.token)).toEqual(['tok-a', 'tok-b', 'tok-c'])
    expect(sent[0]).toMatchObject({ scanId: a.scanId, scannedAt: '2026-12-03T09:30:00+08:00', temperature: 38.6, role: 'VISITOR', venueId: '7' })
    const byId = new Map((await recentScans()).map((s) => [s.scanId, s]))
    expect(byId.get(a.scanId)).toMatchObject({ status: 'ACCEPTED', serverColour: 'YELLOW', fever: true })
    expect(byId.get(b.scanId)).toMatchObject({ status: 'REJECTED', reason: 'REVOKED', message: '健康码已作废，请出示最新的健康码' })
    expect(byId.get(c.scanId)!.status).toBe('DUPLICATE')
    expect(byId.get(a.scanId)!.tokenCipher).toBeUndefined()
    expect(queue).toMatchObject({ pending: 0, lastUpload: { accepted: 1, duplicate: 1, rejected: 1 } })
  })

  it('sends batches of at most 1,000', async () => {
    const db = await database()
    const first = await addScan(scan('t-0'))
    const tx = db.transaction('scans', 'readwrite')
    for (let i = 1; i < BATCH_SIZE + 5; i++) await tx.store.put({ ...first, scanId: `id-${i}`, seq: first.seq + i })
    await tx.done
    const { client, calls } = mockClient({
      RecordScans: (v) => ({ recordScans: (v.scans as { scanId: string }[]).map((s) => ({ scanId: s.scanId, status: 'ACCEPTED', reason: '', message: '', colour: 'GREEN', maskedName: '', fever: false })) }),
    })
    expect(await uploadPending(client)).toBe('done')
    expect(calls.map((c) => (c.variables.scans as unknown[]).length)).toEqual([BATCH_SIZE, 5])
  })

  it('keeps the scans pending when the upload fails, and says why', async () => {
    await addScan(scan('tok-a'))
    const offline = mockClient({ RecordScans: () => gqlError('INTERNAL', 'boom') })
    expect(await uploadPending(offline.client)).toBe('error')
    expect(await countPending()).toBe(1)
    const expired = mockClient({ RecordScans: () => gqlError('UNAUTHENTICATED', '登录已失效') })
    expect(await uploadPending(expired.client)).toBe('unauthenticated')
    expect(await countPending()).toBe(1)
  })
})
