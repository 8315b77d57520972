// The two documents a scanner caches (docs/scanning.md "The two documents"),
// parsed and validated as strictly as credential.ParseKeySet and
// credential.ParseRevocationList: unknown members, wrong types, duplicate
// issuers or keys, keys of unlisted issuers, non-Ed25519 keys or empty
// validity windows make the whole document invalid.
import { b64urlDecode } from './token'

export interface TrustedIssuer {
  id: string
  name: string
  validFrom?: string
  validUntil?: string
}

export interface Jwk {
  kty: string
  crv: string
  x: string
  kid: string
  iss: string
  alg: string
  use?: string
  notAfter?: string
}

export interface KeySet {
  issuers: TrustedIssuer[]
  keys: Jwk[]
  generatedAt: string
}

export interface Revoked {
  iss: string
  jti?: string
  cid?: string
  revokedAt: string
  reason: string
}

export interface RevocationList {
  generatedAt: string
  entries: Revoked[]
}

export class DocumentError extends Error {}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** Milliseconds of an RFC 3339 time as Go's time.Time unmarshals it; throws when it is not one. */
export function parseTime(v: unknown, what: string): number {
  if (typeof v !== 'string' || !RFC3339.test(v)) throw new DocumentError(`${what}: not an RFC 3339 time`)
  const ms = Date.parse(v)
  if (Number.isNaN(ms)) throw new DocumentError(`${what}: not a time`)
  return ms
}

function object(v: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DocumentError(`${what}: not an object`)
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new DocumentError(`${what}: unknown member ${k}`)
  return v as Record<string, unknown>
}

function str(o: Record<string, unknown>, k: string, what: string, optional = false): string | undefined {
  const v = o[k]
  if (v === undefined || v === null) {
    if (optional || v === null) return undefined
    return ''
  }
  if (typeof v !== 'string') throw new DocumentError(`${what}.${k}: not a string`)
  return v
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new DocumentError(`${what}: not a list`)
  return v
}

const ISSUER_ID = /^[a-z0-9_-]{1,32}$/

/** Whether id is a valid issuer id (credential.ValidIssuerID). */
export function validIssuerId(id: string): boolean {
  return ISSUER_ID.test(id)
}

/** The 32-byte public key of a JWK, or a DocumentError (credential.JWK.PublicKey). */
export function publicKey(k: Jwk): Uint8Array {
  if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || k.alg !== 'EdDSA' || (k.use !== undefined && k.use !== '' && k.use !== 'sig')) {
    throw new DocumentError(`key ${k.kid}: not an Ed25519 signing key`)
  }
  const x = b64urlDecode(k.x)
  if (!x || x.length !== 32) throw new DocumentError(`key ${k.kid}: x is not a 32-byte Ed25519 key`)
  return x
}

/** Parses keys.json; throws DocumentError when the document is not valid. */
export function parseKeySet(text: string): KeySet {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new DocumentError('key set: not JSON')
  }
  const o = object(raw, 'key set', ['issuers', 'keys', 'generatedAt'])
  if (o.generatedAt === undefined || o.generatedAt === null) throw new DocumentError('key set: no generatedAt')
  const ks: KeySet = { issuers: [], keys: [], generatedAt: String(o.generatedAt) }
  parseTime(o.generatedAt, 'generatedAt')
  const issuers = new Set<string>()
  for (const [i, v] of list(o.issuers, 'issuers').entries()) {
    const io = object(v, `issuers[${i}]`, ['id', 'name', 'validFrom', 'validUntil'])
    const ti: TrustedIssuer = { id: str(io, 'id', 'issuer')!, name: str(io, 'name', 'issuer')! }
    const from = str(io, 'validFrom', 'issuer', true)
    const until = str(io, 'validUntil', 'issuer', true)
    if (from !== undefined) ti.validFrom = from
    if (until !== undefined) ti.validUntil = until
    if (!validIssuerId(ti.id)) throw new DocumentError(`issuers[${i}]: invalid id`)
    if (issuers.has(ti.id)) throw new DocumentError(`issuer ${ti.id} listed twice`)
    const f = from !== undefined ? parseTime(from, 'validFrom') : undefined
    const u = until !== undefined ? parseTime(until, 'validUntil') : undefined
    if (f !== undefined && u !== undefined && !(f < u)) throw new DocumentError(`issuer ${ti.id}: empty validity window`)
    issuers.add(ti.id)
    ks.issuers.push(ti)
  }
  const keys = new Set<string>()
  for (const [i, v] of list(o.keys, 'keys').entries()) {
    const ko = object(v, `keys[${i}]`, ['kty', 'crv', 'x', 'kid', 'iss', 'alg', 'use', 'notAfter'])
    const k: Jwk = {
      kty: str(ko, 'kty', 'key')!, crv: str(ko, 'crv', 'key')!, x: str(ko, 'x', 'key')!, kid: str(ko, 'kid', 'key')!,
      iss: str(ko, 'iss', 'key')!, alg: str(ko, 'alg', 'key')!,
    }
    const use = str(ko, 'use', 'key', true)
    const notAfter = str(ko, 'notAfter', 'key', true)
    if (use !== undefined) k.use = use
    if (notAfter !== undefined) {
      parseTime(notAfter, 'notAfter')
      k.notAfter = notAfter
    }
    if (!k.kid || new TextEncoder().encode(k.kid).length > 128) throw new DocumentError(`keys[${i}]: invalid kid`)
    publicKey(k)
    if (!issuers.has(k.iss)) throw new DocumentError(`keys[${i}]: issuer ${k.iss} not listed`)
    const id = `${k.iss}\u0000${k.kid}`
    if (keys.has(id)) throw new DocumentError(`key ${k.kid} of ${k.iss} listed twice`)
    keys.add(id)
    ks.keys.push(k)
  }
  return ks
}

/** Parses revocations.json; throws DocumentError when the document is not valid. */
export function parseRevocationList(text: string): RevocationList {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new DocumentError('revocation list: not JSON')
  }
  const o = object(raw, 'revocation list', ['generatedAt', 'entries'])
  if (o.generatedAt === undefined || o.generatedAt === null) throw new DocumentError('revocation list: no generatedAt')
  parseTime(o.generatedAt, 'generatedAt')
  const rl: RevocationList = { generatedAt: String(o.generatedAt), entries: [] }
  for (const [i, v] of list(o.entries, 'entries').entries()) {
    const eo = object(v, `entries[${i}]`, ['iss', 'jti', 'cid', 'revokedAt', 'reason'])
    const e: Revoked = { iss: str(eo, 'iss', 'entry')!, revokedAt: '', reason: str(eo, 'reason', 'entry')! }
    const jti = str(eo, 'jti', 'entry', true) ?? ''
    const cid = str(eo, 'cid', 'entry', true) ?? ''
    if (!validIssuerId(e.iss)) throw new DocumentError(`entries[${i}]: invalid issuer`)
    if ((jti === '') === (cid === '')) throw new DocumentError(`entries[${i}]: exactly one of jti and cid`)
    const enc = new TextEncoder()
    if (enc.encode(jti).length > 128 || enc.encode(cid).length > 128) throw new DocumentError(`entries[${i}]: id too long`)
    if (eo.revokedAt === undefined || eo.revokedAt === null) throw new DocumentError(`entries[${i}]: no revokedAt`)
    parseTime(eo.revokedAt, 'revokedAt')
    e.revokedAt = String(eo.revokedAt)
    if (jti) e.jti = jti
    if (cid) e.cid = cid
    rl.entries.push(e)
  }
  return rl
}
