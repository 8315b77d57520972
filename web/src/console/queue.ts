// The live ticket queue: its order (code appeals first, then by deadline,
// tickets without one last — the order of tickets(appealsFirst: true)), the
// filters a pushed ticket is checked against, and the merge of a pushed
// ticket (ticketQueue subscription) into the rows on screen.

/** What the queue needs of a ticket. */
export interface QueueTicketLike {
  id: string
  kind: string
  state: string
  urgency: string
  regionCode: string
  dueAt?: string | null
  unit?: { id: string } | null
}

/** The queue's filters, as the URL holds them. */
export interface QueueFilter {
  state?: string
  kind?: string
  unitId?: string
  region?: string
  urgency?: string
  overdue?: boolean
}

const closed = new Set(['CLOSED', 'MERGED'])

function due(t: QueueTicketLike): number {
  return t.dueAt ? Date.parse(t.dueAt) : Number.POSITIVE_INFINITY
}

/** The queue's order: appeals first (when asked), then the earliest deadline, then the id. */
export function compareTickets(a: QueueTicketLike, b: QueueTicketLike, appealsFirst = true): number {
  if (appealsFirst) {
    const pa = a.kind === 'CODE_APPEAL' ? 0 : 1
    const pb = b.kind === 'CODE_APPEAL' ? 0 : 1
    if (pa !== pb) return pa - pb
  }
  const da = due(a)
  const db = due(b)
  if (da !== db) return da < db ? -1 : 1
  return Number(a.id) - Number(b.id)
}

/** Whether a ticket belongs in a queue with these filters (as the server would select it at `now`). */
export function matchesFilter(t: QueueTicketLike, f: QueueFilter, now: number): boolean {
  if (f.state ? t.state !== f.state : closed.has(t.state)) return false
  if (f.kind && t.kind !== f.kind) return false
  if (f.urgency && t.urgency !== f.urgency) return false
  if (f.unitId && t.unit?.id !== f.unitId) return false
  if (f.region && !t.regionCode.startsWith(f.region)) return false
  if (f.overdue && !(t.dueAt && Date.parse(t.dueAt) <= now)) return false
  return true
}

export type MergeChange = 'added' | 'updated' | 'removed' | 'ignored'

/**
 * Merges a pushed ticket into the rows on screen: it replaces its old row,
 * takes its place in the order when it still matches the filters, and leaves
 * when it no longer does. `complete` says the rows are the whole queue (no
 * further page); otherwise a ticket that sorts after the last row belongs to
 * a later page and is not shown.
 */
export function mergeTicket<T extends QueueTicketLike>(
  rows: readonly T[],
  t: T,
  f: QueueFilter,
  opts: { appealsFirst: boolean; complete: boolean; now: number },
): { rows: T[]; change: MergeChange } {
  const had = rows.some((r) => r.id === t.id)
  const rest = rows.filter((r) => r.id !== t.id)
  if (!matchesFilter(t, f, opts.now)) return { rows: had ? rest : [...rows], change: had ? 'removed' : 'ignored' }
  const at = rest.findIndex((r) => compareTickets(t, r, opts.appealsFirst) < 0)
  if (at < 0 && !opts.complete && rest.length > 0) {
    return { rows: had ? rest : [...rows], change: had ? 'removed' : 'ignored' }
  }
  const out = [...rest]
  out.splice(at < 0 ? out.length : at, 0, t)
  return { rows: out, change: had ? 'updated' : 'added' }
}
