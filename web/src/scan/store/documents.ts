// The cached key set and revocation list (docs/scanning.md "Fetching and
// caching"): loaded from IndexedDB at start-up, refreshed when online (keys
// every 60 minutes, revocations every 10, at start-up, with If-None-Match),
// a failed refresh retried with backoff from 30 s; an invalid or older
// document never replaces the cached one. Each change builds a new verifier.
import { reactive } from 'vue'
import { database, getSetting, setSetting, type CachedDocument } from './db'
import { DocumentError, parseKeySet, parseRevocationList, parseTime } from '../verify/documents'
import { Verifier } from '../verify/verifier'

export type DocName = 'keys' | 'revocations'

export const URLS: Record<DocName, string> = {
  keys: '/.well-known/healthcode/keys.json',
  revocations: '/.well-known/healthcode/revocations.json',
}
export const REFRESH_MS: Record<DocName, number> = { keys: 60 * 60_000, revocations: 10 * 60_000 }
/** Older than this (since the server last confirmed it), the key set is refused. */
export const MAX_KEYS_AGE_MS = 7 * 24 * 3600_000
/** Older than this, paper codes and pass cards are flagged for a manual check. */
export const MAX_REVOCATIONS_AGE_MS = 24 * 3600_000
const FIRST_RETRY_MS = 30_000

export interface DocumentsState {
  keys: CachedDocument | null
  revocations: CachedDocument | null
  verifier: Verifier | null
  /** The server's clock minus the device's (ms), measured at the last refresh. */
  offsetMs: number
  refreshing: boolean
  lastError: string
}

export const docs = reactive<DocumentsState>({ keys: null, revocations: null, verifier: null, offsetMs: 0, refreshing: false, lastError: '' })

/** The device's clock corrected by the offset to the server's clock. */
export function now(): number {
  return Date.now() + docs.offsetMs
}

async function rebuild() {
  if (!docs.keys) {
    docs.verifier = null
    return
  }
  const ks = parseKeySet(docs.keys.body)
  const rl = docs.revocations ? parseRevocationList(docs.revocations.body) : null
  docs.verifier = await Verifier.create(ks, rl)
}

/** Reads the cached documents and the clock offset, and builds the verifier. */
export async function loadDocuments(): Promise<void> {
  const db = await database()
  docs.keys = (await db.get('documents', 'keys')) ?? null
  docs.revocations = (await db.get('documents', 'revocations')) ?? null
  docs.offsetMs = (await getSetting<number>('offsetMs')) ?? 0
  try {
    await rebuild()
  } catch (e) {
    docs.lastError = String(e)
    docs.verifier = null
  }
}

/** The age of a cached document: since the server last confirmed it. */
export function age(d: CachedDocument | null): number {
  return d ? now() - Math.max(d.confirmedAt, d.generatedAt) : Infinity
}

/**
 * Fetches one document with If-None-Match. Returns true when the cache is
 * current (200 stored, or 304), false on any failure (kept as it was).
 */
export async function refreshDocument(name: DocName, fetchFn: typeof fetch = fetch): Promise<boolean> {
  const cached = docs[name]
  const t0 = Date.now()
  let res: Response
  try {
    res = await fetchFn(URLS[name], { cache: 'no-store', headers: cached?.etag ? { 'If-None-Match': cached.etag } : {} })
  } catch {
    docs.lastError = 'network'
    return false
  }
  const t1 = Date.now()
  const date = Date.parse(res.headers.get('Date') ?? '')
  // The Date header has whole seconds: only a clear difference is taken.
  if (!Number.isNaN(date)) {
    const off = date + 500 - (t0 + t1) / 2
    const offsetMs = Math.abs(off) > 30_000 ? Math.round(off) : 0
    if (offsetMs !== docs.offsetMs) {
      docs.offsetMs = offsetMs
      await setSetting('offsetMs', offsetMs)
    }
  }
  const db = await database()
  if (res.status === 304 && cached) {
    const d = { ...cached, confirmedAt: now() }
    await db.put('documents', d)
    docs[name] = d
    return true
  }
  if (!res.ok) {
    docs.lastError = `HTTP ${res.status}`
    return false
  }
  const body = await res.text()
  let generatedAt: number
  try {
    generatedAt = parseTime((name === 'keys' ? parseKeySet(body) : parseRevocationList(body)).generatedAt, 'generatedAt')
  } catch (e) {
    docs.lastError = e instanceof DocumentError ? `invalid ${name}: ${e.message}` : String(e)
    return false // an invalid document is discarded; the last good copy stays
  }
  if (cached && generatedAt < cached.generatedAt) {
    docs.lastError = `older ${name} refused`
    return false // no rollback to an older set
  }
  const d: CachedDocument = { name, body, etag: res.headers.get('ETag') ?? '', generatedAt, confirmedAt: now() }
  const previous = docs[name]
  docs[name] = d
  try {
    await rebuild()
  } catch (e) {
    docs[name] = previous
    docs.lastError = String(e)
    return false
  }
  await db.put('documents', d)
  docs.lastError = ''
  return true
}

/** Refreshes both documents now; true when both are current. */
export async function refreshAll(fetchFn: typeof fetch = fetch): Promise<boolean> {
  docs.refreshing = true
  try {
    const [k, r] = await Promise.all([refreshDocument('keys', fetchFn), refreshDocument('revocations', fetchFn)])
    return k && r
  } finally {
    docs.refreshing = false
  }
}

/** Keeps both documents fresh while the page lives: at start, on schedule, with backoff, and when the network returns. */
export function scheduleRefresh(): () => void {
  const timers: Partial<Record<DocName, ReturnType<typeof setTimeout>>> = {}
  const retry: Record<DocName, number> = { keys: FIRST_RETRY_MS, revocations: FIRST_RETRY_MS }
  const run = async (name: DocName) => {
    clearTimeout(timers[name])
    const ok = navigator.onLine !== false && (await refreshDocument(name))
    const wait = ok ? REFRESH_MS[name] : retry[name]
    retry[name] = ok ? FIRST_RETRY_MS : Math.min(retry[name] * 2, REFRESH_MS[name])
    timers[name] = setTimeout(() => void run(name), wait)
  }
  const online = () => {
    void run('keys')
    void run('revocations')
  }
  window.addEventListener('online', online)
  online()
  return () => {
    window.removeEventListener('online', online)
    clearTimeout(timers.keys)
    clearTimeout(timers.revocations)
  }
}
