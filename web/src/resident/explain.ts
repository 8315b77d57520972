// How the code page explains a colour: the facts behind each clause, in
// words a resident reads. The helpers shared with the console live in
// shared/facts.ts; what remains before a yellow code turns green by
// check-ins is the clause's checkIns.
import type { FactFieldsFragment } from '@/api/generated/graphql'
import { formatTime } from '@/shared/format'
import { t } from '@/locales/zh-CN'
import { sourceLabel } from '@/shared/facts'

export { causeLabel, factsFor, factText, sourceLabel } from '@/shared/facts'

/**
 * Who entered a fact, as a resident reads it: "resident:3" → 本人或监护人,
 * "staff:12" → 工作人员 (a staff member's internal number means nothing to a
 * resident; the source says where: 场所扫码, 卫生健康部门…).
 */
export function actorLabel(actor: string): string {
  const [kind] = actor.split(':')
  return t.facts.actors[kind ?? ''] ?? actor
}

export function enteredBy(f: FactFieldsFragment): string {
  return `${sourceLabel(f.source)} · ${actorLabel(f.actor)} · ${formatTime(f.createdAt)}`
}
