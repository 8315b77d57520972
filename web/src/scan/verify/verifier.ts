// Offline verification in the browser, step by step as docs/scanning.md and
// credential.Verifier do it: size and parse, algorithm, the issuer's trust
// window, the key among that issuer's keys only, the Ed25519 signature, the
// times with skew, the revocation list. The keys are imported once when the
// verifier is built; a refresh builds a new verifier.
import { b64urlDecode, parseToken, type Claims, type Reason } from './token'
import { parseTime, publicKey, type KeySet, type RevocationList } from './documents'
import { ed25519Backend, type Ed25519Backend } from './ed25519'

export const DEFAULT_SKEW_MS = 2 * 60 * 1000

export type Verification = { ok: true; claims: Claims; issuerName: string } | { ok: false; reason: Reason }

interface Issuer {
  name: string
  from: number | null
  until: number | null
  keys: Map<string, { key: unknown; notAfter: number | null }>
}

export class Verifier {
  private constructor(
    private readonly issuers: Map<string, Issuer>,
    private readonly byJti: Map<string, Map<string, number>>,
    private readonly byCid: Map<string, Map<string, number>>,
    private readonly backend: Ed25519Backend,
  ) {}

  /** Builds a verifier from validated documents (parseKeySet, parseRevocationList). */
  static async create(ks: KeySet, rl: RevocationList | null, backend?: Ed25519Backend): Promise<Verifier> {
    const be = backend ?? (await ed25519Backend())
    const issuers = new Map<string, Issuer>()
    for (const ti of ks.issuers) {
      issuers.set(ti.id, {
        name: ti.name || ti.id,
        from: ti.validFrom ? parseTime(ti.validFrom, 'validFrom') : null,
        until: ti.validUntil ? parseTime(ti.validUntil, 'validUntil') : null,
        keys: new Map(),
      })
    }
    for (const k of ks.keys) {
      issuers.get(k.iss)!.keys.set(k.kid, { key: await be.importKey(publicKey(k)), notAfter: k.notAfter ? parseTime(k.notAfter, 'notAfter') : null })
    }
    const byJti = new Map<string, Map<string, number>>()
    const byCid = new Map<string, Map<string, number>>()
    for (const e of rl?.entries ?? []) {
      const at = parseTime(e.revokedAt, 'revokedAt')
      const [m, id] = e.jti ? [byJti, e.jti] : [byCid, e.cid!]
      const byIss = m.get(id) ?? new Map<string, number>()
      const prev = byIss.get(e.iss)
      // A code id's entry with the latest time wins (credential.NewRevocationSet).
      if (prev === undefined || (m === byCid && at > prev)) byIss.set(e.iss, at)
      m.set(id, byIss)
    }
    return new Verifier(issuers, byJti, byCid, be)
  }

  /** The backend's name, for the status screen ("WebCrypto" or "noble"). */
  get engine(): string {
    return this.backend.name
  }

  /** The issuer's name in the key set ("陕西省", "湖北省"). */
  issuerName(id: string): string {
    return this.issuers.get(id)?.name ?? id
  }

  /** Verifies a token at nowMs with the skew, in the order of docs/scanning.md. */
  async verify(token: string, nowMs: number, skewMs = DEFAULT_SKEW_MS): Promise<Verification> {
    const skew = Math.max(0, skewMs)
    const p = parseToken(token)
    if (!p) return { ok: false, reason: 'MALFORMED' }
    const iss = this.issuers.get(p.claims.iss)
    if (!iss) return { ok: false, reason: 'UNKNOWN_ISSUER' }
    if ((iss.from !== null && nowMs < iss.from) || (iss.until !== null && nowMs >= iss.until)) return { ok: false, reason: 'UNKNOWN_ISSUER' }
    const k = iss.keys.get(p.kid)
    if (!k) return { ok: false, reason: 'UNKNOWN_KEY' }
    if (k.notAfter !== null && nowMs > k.notAfter + skew) return { ok: false, reason: 'UNKNOWN_KEY' }
    const sig = b64urlDecode(p.signature)
    if (!sig || sig.length !== 64) return { ok: false, reason: 'MALFORMED' }
    if (!(await this.backend.verify(k.key, sig, p.signingInput))) return { ok: false, reason: 'BAD_SIGNATURE' }
    const c = p.claims
    if (c.exp * 1000 < nowMs - skew) return { ok: false, reason: 'EXPIRED' }
    if (c.iat * 1000 > nowMs + skew) return { ok: false, reason: 'NOT_YET_VALID' }
    if (this.byJti.get(c.jti)?.has(c.iss)) return { ok: false, reason: 'REVOKED' }
    const at = this.byCid.get(c.cid)?.get(c.iss)
    if (at !== undefined && c.iat * 1000 < at) return { ok: false, reason: 'REVOKED' }
    return { ok: true, claims: c, issuerName: iss.name }
  }
}
