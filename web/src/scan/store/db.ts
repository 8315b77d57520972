// The scanner's IndexedDB database "hc-scan": the cached documents (key set,
// revocation list), the offline queue of scans and their results, the
// device's settings (venue, mode, venues list, clock offset) and the key that
// encrypts queued tokens at rest.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'

export interface CachedDocument {
  /** 'keys' or 'revocations' */
  name: string
  body: string
  etag: string
  /** generatedAt of the body (ms) */
  generatedAt: number
  /** When the server last confirmed this body (200 or 304), device clock corrected (ms). */
  confirmedAt: number
}

export type ScanStatus = 'PENDING' | 'ACCEPTED' | 'DUPLICATE' | 'REJECTED'

export interface QueuedScan {
  scanId: string
  /** Sequence number: uploads go oldest first. */
  seq: number
  /** The token, AES-GCM encrypted (dropped once the server answered). */
  tokenIv?: Uint8Array
  tokenCipher?: ArrayBuffer
  venueId: string
  venueName: string
  /** RFC 3339, the scan's original time */
  scannedAt: string
  temperature: number | null
  role: 'EMPLOYEE' | 'VISITOR'
  /** What the device showed offline. */
  local: { ok: boolean; reason?: string; colour?: string; maskedName?: string; issuer?: string; kind?: string; flagged?: boolean }
  fever: boolean
  status: ScanStatus
  /** The server's answer */
  reason?: string
  message?: string
  serverColour?: string
  uploadedAt?: string
}

export interface Setting {
  name: string
  value: unknown
}

interface ScanDB extends DBSchema {
  documents: { key: string; value: CachedDocument }
  scans: { key: string; value: QueuedScan; indexes: { seq: number; status: string } }
  settings: { key: string; value: Setting }
}

let db: Promise<IDBPDatabase<ScanDB>> | null = null

export function database(): Promise<IDBPDatabase<ScanDB>> {
  db ??= openDB<ScanDB>('hc-scan', 1, {
    upgrade(d) {
      d.createObjectStore('documents', { keyPath: 'name' })
      const scans = d.createObjectStore('scans', { keyPath: 'scanId' })
      scans.createIndex('seq', 'seq')
      scans.createIndex('status', 'status')
      d.createObjectStore('settings', { keyPath: 'name' })
    },
  })
  return db
}

/** For tests: forget the open connection (a fresh fake-indexeddb follows). */
export function resetDatabase() {
  db = null
}

export async function getSetting<T>(name: string): Promise<T | undefined> {
  return (await (await database()).get('settings', name))?.value as T | undefined
}

export async function setSetting(name: string, value: unknown): Promise<void> {
  await (await database()).put('settings', { name, value })
}

/**
 * The key that encrypts queued tokens at rest (docs/scanning.md: "encrypted
 * at rest"): AES-GCM, generated on the device, stored as a non-extractable
 * CryptoKey, so the database files alone do not reveal the tokens.
 */
export async function queueKey(): Promise<CryptoKey> {
  const have = await getSetting<CryptoKey>('queueKey')
  if (have) return have
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  await setSetting('queueKey', key)
  return key
}
