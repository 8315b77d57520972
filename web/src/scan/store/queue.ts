// The offline queue (docs/scanning.md "Recording scans offline"): every scan
// gets a client-generated id and keeps its original time; it waits in
// IndexedDB (the token encrypted at rest) until it is uploaded, oldest first,
// in batches of up to 1,000 with recordScans. Each scan's answer (accepted,
// duplicate, rejected with its reason) is kept for the inspector to see; the
// token is dropped once the server answered. Nothing is lost on a reload or a
// closed tab: the queue lives in the database, not in the page.
import { reactive } from 'vue'
import type { Client } from '@urql/core'
import { RecordScansDocument } from '@/scan/generated/graphql'
import { isUnauthenticated, toApiError } from '@/api/errors'
import { database, queueKey, type QueuedScan } from './db'

export const BATCH_SIZE = 1000
/** Answered scans kept for the list (the newest). */
const KEEP_ANSWERED = 500

export const queue = reactive({ pending: 0, uploading: false, lastError: '', lastUpload: null as null | { accepted: number; duplicate: number; rejected: number } })

function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export type NewScan = Pick<QueuedScan, 'venueId' | 'venueName' | 'temperature' | 'role' | 'local' | 'fever'> & { token: string; scannedAt: string }

/** Records a scan in the queue; returns it (with its new id). */
export async function addScan(s: NewScan): Promise<QueuedScan> {
  const db = await database()
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cipher = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await queueKey(), new TextEncoder().encode(s.token))
  const lastSeq = (await lastScan())?.seq ?? 0
  const q: QueuedScan = {
    scanId: uuid(),
    seq: lastSeq + 1,
    tokenIv: iv,
    tokenCipher: cipher,
    venueId: s.venueId,
    venueName: s.venueName,
    scannedAt: s.scannedAt,
    temperature: s.temperature,
    role: s.role,
    local: s.local,
    fever: s.fever,
    status: 'PENDING',
  }
  await db.put('scans', q)
  await countPending()
  return q
}

async function lastScan(): Promise<QueuedScan | undefined> {
  const db = await database()
  const cur = await db.transaction('scans').store.index('seq').openCursor(null, 'prev')
  return cur?.value
}

export async function countPending(): Promise<number> {
  queue.pending = await (await database()).countFromIndex('scans', 'status', 'PENDING')
  return queue.pending
}

/** The newest scans first (answered and pending), for the list. */
export async function recentScans(limit = 100): Promise<QueuedScan[]> {
  const db = await database()
  const out: QueuedScan[] = []
  let cur = await db.transaction('scans').store.index('seq').openCursor(null, 'prev')
  while (cur && out.length < limit) {
    out.push(cur.value)
    cur = await cur.continue()
  }
  return out
}

async function decryptToken(s: QueuedScan, key: CryptoKey): Promise<string> {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: s.tokenIv! as Uint8Array<ArrayBuffer> }, key, s.tokenCipher!)
  return new TextDecoder().decode(plain)
}

export type UploadOutcome = 'done' | 'offline' | 'unauthenticated' | 'error' | 'busy'

/**
 * Uploads the pending scans, oldest first, in batches; stores each answer.
 * A batch that fails (network, server) stays pending and is sent again later
 * with the same ids, which the server deduplicates.
 */
export async function uploadPending(client: Client): Promise<UploadOutcome> {
  if (queue.uploading) return 'busy'
  queue.uploading = true
  try {
    const db = await database()
    const key = await queueKey()
    const totals = { accepted: 0, duplicate: 0, rejected: 0 }
    for (;;) {
      const pending: QueuedScan[] = []
      let cur = await db.transaction('scans').store.index('seq').openCursor()
      while (cur && pending.length < BATCH_SIZE) {
        if (cur.value.status === 'PENDING') pending.push(cur.value)
        cur = await cur.continue()
      }
      if (!pending.length) break
      const scans = await Promise.all(
        pending.map(async (s) => ({
          scanId: s.scanId, token: await decryptToken(s, key), venueId: s.venueId, scannedAt: s.scannedAt,
          temperature: s.temperature, role: s.role,
        })),
      )
      const res = await client.mutation(RecordScansDocument, { scans }, { requestPolicy: 'network-only' }).toPromise()
      if (res.error || !res.data) {
        const e = toApiError(res.error)
        queue.lastError = e.message
        if (isUnauthenticated(res.error)) return 'unauthenticated'
        return e.code === 'NETWORK' ? 'offline' : 'error'
      }
      const byId = new Map(res.data.recordScans.map((r) => [r.scanId, r]))
      const tx = db.transaction('scans', 'readwrite')
      const uploadedAt = new Date().toISOString()
      for (const s of pending) {
        const r = byId.get(s.scanId)
        if (!r) continue
        const done: QueuedScan = { ...s, status: r.status as QueuedScan['status'], reason: r.reason, message: r.message, serverColour: r.colour, uploadedAt }
        delete done.tokenIv
        delete done.tokenCipher
        if (r.fever) done.fever = true
        totals[r.status === 'ACCEPTED' ? 'accepted' : r.status === 'DUPLICATE' ? 'duplicate' : 'rejected']++
        await tx.store.put(done)
      }
      await tx.done
    }
    queue.lastUpload = totals
    queue.lastError = ''
    await prune()
    return 'done'
  } finally {
    queue.uploading = false
    await countPending()
  }
}

/** Drops the oldest answered scans beyond KEEP_ANSWERED. */
async function prune() {
  const db = await database()
  const tx = db.transaction('scans', 'readwrite')
  let kept = 0
  let cur = await tx.store.index('seq').openCursor(null, 'prev')
  while (cur) {
    if (cur.value.status !== 'PENDING' && ++kept > KEEP_ANSWERED) await cur.delete()
    cur = await cur.continue()
  }
  await tx.done
}
