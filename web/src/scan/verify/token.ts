// The health code token (docs/scanning.md "Verifying a token"), parsed
// exactly as the Go reference (credential/verify.go) parses it: a compact JWS
// of at most 2 KiB, strict base64url, a header of exactly {alg, kid, typ},
// a payload of exactly the eight claims. Everything that fails is MALFORMED.

export const MAX_TOKEN_SIZE = 2048

export type Reason = 'MALFORMED' | 'UNKNOWN_ISSUER' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'EXPIRED' | 'NOT_YET_VALID' | 'REVOKED'

export interface Claims {
  iss: string
  cid: string
  col: 'GREEN' | 'YELLOW' | 'RED'
  nm: string
  knd: 'ELECTRONIC' | 'PAPER' | 'PASS_CARD'
  /** Unix seconds */
  iat: number
  exp: number
  jti: string
}

/** A token checked up to its signature. */
export interface ParsedToken {
  alg: string
  kid: string
  claims: Claims
  /** The ASCII bytes of header.payload, which the signature covers. */
  signingInput: Uint8Array
  /** The signature's base64url text, decoded after the issuer and key checks (as the Go verifier does). */
  signature: string
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const VALUE = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i

/**
 * Strict base64url without padding (Go's RawURLEncoding.Strict()): a length
 * of 1 mod 4 and non-zero trailing bits are errors. Returns null on error.
 */
export function b64urlDecode(s: string): Uint8Array | null {
  if (s.length % 4 === 1) return null
  const out = new Uint8Array(Math.floor((s.length * 3) / 4))
  let bits = 0
  let acc = 0
  let o = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const v = c < 128 ? VALUE[c]! : -1
    if (v < 0) return null
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return null
  return out
}

export function b64urlEncode(b: Uint8Array): string {
  let s = ''
  let i = 0
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!
    s += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8)
    s += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!
    if (i + 1 < b.length) s += ALPHABET[(n >> 6) & 63]!
  }
  return s
}

/** A minimal strict JSON scanner for the flat objects of the token (credential/verify.go jscan). */
class Scanner {
  i = 0
  constructor(private readonly s: string) {}
  ws() {
    while (this.i < this.s.length) {
      const c = this.s[this.i]
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++
      else return
    }
  }
  consume(c: string): boolean {
    this.ws()
    if (this.s[this.i] === c) {
      this.i++
      return true
    }
    return false
  }
  atEnd(): boolean {
    this.ws()
    return this.i === this.s.length
  }
  /** A JSON string: its decoded value and whether it had escapes; null when malformed. */
  str(): { value: string; esc: boolean } | null {
    this.ws()
    if (this.s[this.i] !== '"') return null
    const start = this.i
    this.i++
    let esc = false
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i)
      if (c === 0x22) {
        this.i++
        const raw = this.s.slice(start, this.i)
        try {
          return { value: JSON.parse(raw) as string, esc }
        } catch {
          return null
        }
      }
      if (c === 0x5c) {
        esc = true
        const n = this.s[this.i + 1]
        if (n === undefined) return null
        if ('"\\/bfnrt'.includes(n)) this.i += 2
        else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) this.i += 6
        else return null
      } else if (c < 0x20) {
        return null
      } else {
        this.i++
      }
    }
    return null
  }
  /** A non-negative integer of at most 12 digits without a leading zero. */
  integer(): number | null {
    this.ws()
    const start = this.i
    while (this.i < this.s.length && this.s[this.i]! >= '0' && this.s[this.i]! <= '9') {
      if (this.i - start === 12) return null
      this.i++
    }
    if (this.i === start || (this.i - start > 1 && this.s[start] === '0')) return null
    return Number(this.s.slice(start, this.i))
  }
  key(): string | null {
    const k = this.str()
    if (!k || k.esc || !this.consume(':')) return null
    return k.value
  }
  /** After a member: true after a comma, false after the closing brace, null otherwise. */
  next(): boolean | null {
    if (this.consume(',')) return true
    if (this.consume('}')) return false
    return null
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeUtf8(b: Uint8Array): string | null {
  try {
    return utf8.decode(b)
  } catch {
    return null
  }
}

function parseHeader(text: string): { alg: string; kid: string } | null {
  const s = new Scanner(text)
  if (!s.consume('{')) return null
  const seen = new Map<string, string>()
  for (let more: boolean | null = true; more; ) {
    const k = s.key()
    if (k === null) return null
    const v = s.str()
    if (!v || v.esc || v.value === '') return null
    if (!['alg', 'kid', 'typ'].includes(k) || seen.has(k)) return null
    seen.set(k, v.value)
    more = s.next()
    if (more === null) return null
  }
  if (seen.size !== 3 || !s.atEnd() || seen.get('typ')!.toLowerCase() !== 'hc+jwt') return null
  return { alg: seen.get('alg')!, kid: seen.get('kid')! }
}

const COLOURS = new Set(['GREEN', 'YELLOW', 'RED'])
const KINDS = new Set(['ELECTRONIC', 'PAPER', 'PASS_CARD'])
const STRING_CLAIMS = new Set(['iss', 'cid', 'col', 'nm', 'knd', 'jti'])

function parsePayload(text: string): Claims | null {
  const s = new Scanner(text)
  if (!s.consume('{')) return null
  const out: Record<string, string | number> = {}
  const escaped = new Set<string>()
  for (let more: boolean | null = true; more; ) {
    const k = s.key()
    if (k === null || k in out) return null
    if (STRING_CLAIMS.has(k)) {
      const v = s.str()
      if (!v) return null
      out[k] = v.value
      if (v.esc) escaped.add(k)
    } else if (k === 'iat' || k === 'exp') {
      const n = s.integer()
      if (n === null) return null
      out[k] = n
    } else {
      return null
    }
    more = s.next()
    if (more === null) return null
  }
  const c = out as unknown as Claims
  if (Object.keys(out).length !== 8 || !s.atEnd()) return null
  if (escaped.has('iss') || escaped.has('col') || escaped.has('knd')) return null
  if (!c.cid || !c.jti || !c.iss) return null
  if (!COLOURS.has(c.col) || !KINDS.has(c.knd) || c.exp <= c.iat) return null
  return c
}

/** Parses a token (steps 1–3 of docs/scanning.md); null means MALFORMED. */
export function parseToken(token: string): ParsedToken | null {
  if (token.length > MAX_TOKEN_SIZE || new TextEncoder().encode(token).length > MAX_TOKEN_SIZE) return null
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[0] || !parts[1]) return null
  const [h, p, sg] = parts as [string, string, string]
  if (sg.length !== 86) return null
  if (b64urlDecode(sg) === null && !/^[A-Za-z0-9_-]*$/.test(sg)) return null
  const hb = b64urlDecode(h)
  const pb = b64urlDecode(p)
  if (!hb || !pb) return null
  const ht = decodeUtf8(hb)
  const pt = decodeUtf8(pb)
  if (ht === null || pt === null) return null
  const header = parseHeader(ht)
  if (!header || header.alg !== 'EdDSA') return null
  const claims = parsePayload(pt)
  if (!claims) return null
  return { ...header, claims, signingInput: new TextEncoder().encode(`${h}.${p}`), signature: sg }
}
