// One check of a scanned token against the cached documents: refused when
// there is no key set or it is older than 7 days (docs/scanning.md, step 4),
// flagged when a paper code or pass card meets a revocation list older than
// 24 hours (step 5). The time it takes is measured (performance.now()).
import type { Claims } from './verify/token'
import { docs, now, age, MAX_KEYS_AGE_MS, MAX_REVOCATIONS_AGE_MS } from './store/documents'
import { t } from '@/locales/zh-CN.scan'

export interface CheckResult {
  ok: boolean
  /** A verification reason, or KEYS_MISSING / KEYS_STALE. */
  reason: string
  message: string
  claims: Claims | null
  issuerName: string
  /** A paper code or pass card checked with an out-of-date revocation list. */
  flagged: boolean
  /** Milliseconds the verification took. */
  ms: number
}

export async function checkToken(raw: string): Promise<CheckResult> {
  const token = raw.trim()
  const base = { claims: null, issuerName: '', flagged: false, ms: 0 }
  if (!docs.verifier) return { ...base, ok: false, reason: 'KEYS_MISSING', message: t.scanner.keysMissing }
  if (age(docs.keys) > MAX_KEYS_AGE_MS) return { ...base, ok: false, reason: 'KEYS_STALE', message: t.scanner.keysStale }
  const t0 = performance.now()
  const v = await docs.verifier.verify(token, now())
  const ms = performance.now() - t0
  if (!v.ok) return { ...base, ok: false, reason: v.reason, message: t.scanner.reasons[v.reason] ?? t.scanner.invalid, ms }
  const flagged = v.claims.knd !== 'ELECTRONIC' && age(docs.revocations) > MAX_REVOCATIONS_AGE_MS
  return { ok: true, reason: '', message: flagged ? t.scanner.revocationsStale : '', claims: v.claims, issuerName: v.issuerName, flagged, ms }
}
