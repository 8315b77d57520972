// How a code is explained, for residents (resident/explain.ts) and staff
// (the console's appeal desk): the facts behind each clause, and the facts'
// summaries and sources in words.
import type { Client } from '@urql/core'
import { regionNamesOf } from '@/shared/regionApi'
import { placeLabel } from '@/shared/regions'
import { t } from '@/locales/zh-CN'

/** What the helpers need of a fact (myFacts, personFacts, appealView.facts). */
export interface FactLike {
  kind: string
  id: string
  summary: string
}

/**
 * The kind of fact each clause of the unified rule set cites (rules/ruleset.go:
 * stay risk → STAY, medical windows → MEDICAL, abnormal health → HEALTH,
 * designations → DESIGNATION; G, the green explanation, names stays). Fact
 * ids are unique per kind only, so the kind picks the right facts; a clause
 * of another rule set shows every fact with a cited id.
 */
const clauseFactKind: Record<string, string> = {
  R1: 'STAY', R2: 'MEDICAL', R3: 'MEDICAL', R4: 'MEDICAL', R5: 'MEDICAL', R6: 'MEDICAL', R7: 'DESIGNATION',
  Y1: 'STAY', Y2: 'HEALTH', Y3: 'MEDICAL', Y4: 'DESIGNATION', G: 'STAY',
}

export function factsFor<F extends FactLike>(clause: { id: string; factIds: string[] }, facts: F[]): F[] {
  const kind = clauseFactKind[clause.id]
  return facts.filter((f) => clause.factIds.includes(f.id) && (!kind || f.kind === kind))
}

const medical: Record<string, string> = {
  CONFIRMED: '确诊', SUSPECTED: '疑似', SUSPECT_EXCLUDED: '排除疑似', ASYMPTOMATIC: '无症状感染',
  ISOLATION_RELEASED: '解除隔离', CLOSE_CONTACT: '密切接触', DISCHARGED: '治愈出院', FOLLOWUP_NORMAL: '复诊正常',
}
const designation: Record<string, string> = { RED: '红码', YELLOW: '黄码', GREEN: '绿码' }

/** The fact's summary with codes turned into words where we know them. */
export function factText(f: FactLike, names: Record<string, string> = {}): string {
  let s = f.summary
  const lead = /^(RESIDENCE|TRAVEL|ARRIVAL|SCAN|DECLARATION|CHECKIN|SUBSYSTEM)\s+/.exec(s)
  if (lead) {
    // A stay's summary is "<source> <place> <period>": only the place is a
    // code (a date's "21" is not 辽宁省).
    s = s.slice(lead[0].length).replace(/^(ABROAD:[A-Z]{2}|\d{2,15})(?=\s|$)/, (m) => placeLabel(m, names))
  }
  s = s.replace(/^(CONFIRMED|SUSPECTED|SUSPECT_EXCLUDED|ASYMPTOMATIC|ISOLATION_RELEASED|CLOSE_CONTACT|DISCHARGED|FOLLOWUP_NORMAL)\b/, (m) => medical[m] ?? m)
  s = s.replace(/^(RED|YELLOW|GREEN)\b/, (m) => designation[m] ?? m)
  s = s.replace(/\b(fever|dry_cough|cough|shortness_of_breath|fatigue|sore_throat|diarrhea|loss_of_smell)\b/g, (m) => t.symptoms[m] ?? m)
  return s
}

export function sourceLabel(source: string): string {
  return t.facts.sources[source] ?? source
}

/** A colour change's cause ("declaration:12", "area_risk:4", "time") in words. */
export function causeLabel(cause: string): string {
  const head = cause.split(':')[0] ?? cause
  return t.causes[head] ?? cause
}

/** The names of the Shaanxi regions the facts mention, for factText ("610113" → "雁塔区"). */
export async function regionNames(client: Client, facts: FactLike[]): Promise<Record<string, string>> {
  const codes = new Set<string>()
  for (const f of facts) for (const m of f.summary.matchAll(/\b61\d{2,13}\b/g)) codes.add(m[0])
  return regionNamesOf(client, [...codes].slice(0, 30))
}
