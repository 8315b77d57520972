// How a code is explained, for residents (resident/explain.ts) and staff
// (the console's appeal desk): the facts behind each clause, and the facts
// (from the API's fields) and sources in words.
import { placeLabel } from '@/shared/regions'
import { t } from '@/locales/zh-CN'

/** What the helpers need of a fact (myFacts, personFacts, appealView.facts): the API's fields. */
export interface FactLike {
  kind: string
  id: string
  summary: string
  when: string
  place: string
  placeName: string
  medicalKind?: string | null
  note: string
  temperature?: number | null
  symptoms: string[]
  colour?: string | null
  pending: boolean
}

/**
 * The facts a clause rests on: those of its factKind with a cited id (fact
 * ids are unique per kind only). A clause without a factKind (a code stored
 * before clauses named it) shows every fact with a cited id.
 */
export function factsFor<F extends FactLike>(clause: { factIds: string[]; factKind?: string | null }, facts: F[]): F[] {
  return facts.filter((f) => clause.factIds.includes(f.id) && (!clause.factKind || f.kind === clause.factKind))
}

const medical: Record<string, string> = {
  CONFIRMED: '确诊', SUSPECTED: '疑似', SUSPECT_EXCLUDED: '排除疑似', ASYMPTOMATIC: '无症状感染',
  ISOLATION_RELEASED: '解除隔离', CLOSE_CONTACT: '密切接触', DISCHARGED: '治愈出院', FOLLOWUP_NORMAL: '复诊正常',
}
const designation: Record<string, string> = { RED: '红码', YELLOW: '黄码', GREEN: '绿码' }

/** What a fact says, in words, from its fields (the summary, as stored, is for the audit). */
export function factText(f: FactLike): string {
  const temperature = f.temperature != null ? `${f.temperature}℃` : ''
  switch (f.kind) {
    case 'STAY':
      return [placeLabel(f.place, f.placeName ? { [f.place]: f.placeName } : {}), f.when, temperature].filter(Boolean).join(' ')
    case 'MEDICAL':
      return [medical[f.medicalKind ?? ''] ?? f.medicalKind, f.when, f.note].filter(Boolean).join(' ')
    case 'HEALTH':
      return [temperature, f.symptoms.map((s) => t.symptoms[s] ?? s).join('、'), f.when].filter(Boolean).join(' ')
    case 'DESIGNATION':
      return [designation[f.colour ?? ''] ?? f.colour, f.note + (f.pending ? t.facts.pending : ''), f.when].filter(Boolean).join(' ')
  }
  return f.summary
}

export function sourceLabel(source: string): string {
  return t.facts.sources[source] ?? source
}

/** A colour change's cause ("declaration:12", "area_risk:4", "time") in words. */
export function causeLabel(cause: string): string {
  const head = cause.split(':')[0] ?? cause
  return t.causes[head] ?? cause
}
