import { describe, expect, it } from 'vitest'
import { compareTickets, matchesFilter, mergeTicket, type QueueTicketLike } from './queue'

const t = (id: string, kind: string, dueAt: string | null, extra: Partial<QueueTicketLike> = {}): QueueTicketLike => ({
  id, kind, dueAt, state: 'DISPATCHED', urgency: 'NORMAL', regionCode: '610113', unit: { id: '1' }, ...extra,
})
const now = Date.parse('2026-11-02T05:00:00Z')

describe('queue order', () => {
  it('puts appeals first, then the earliest deadline, tickets without one last, then the id', () => {
    const rows = [
      t('5', 'COMPLAINT', null),
      t('4', 'COMPLAINT', '2026-11-02T06:30:00Z'),
      t('3', 'CODE_APPEAL', '2026-11-02T07:00:00Z'),
      t('2', 'COMPLAINT', '2026-11-01T01:00:00Z'), // overdue: earliest deadline of the others
      t('1', 'CODE_APPEAL', '2026-11-02T07:00:00Z'),
      t('6', 'CODE_APPEAL', null, { state: 'SIGNED' }),
    ]
    expect([...rows].sort((a, b) => compareTickets(a, b)).map((r) => r.id)).toEqual(['1', '3', '6', '2', '4', '5'])
    // Without appeals first, as tickets() orders them: by deadline alone.
    expect([...rows].sort((a, b) => compareTickets(a, b, false)).map((r) => r.id)).toEqual(['2', '4', '1', '3', '5', '6'])
  })

  it('checks pushed tickets against the filters', () => {
    expect(matchesFilter(t('1', 'COMPLAINT', null, { state: 'CLOSED' }), {}, now)).toBe(false) // open tickets only
    expect(matchesFilter(t('1', 'COMPLAINT', null, { state: 'CLOSED' }), { state: 'CLOSED' }, now)).toBe(true)
    expect(matchesFilter(t('1', 'COMPLAINT', null), { kind: 'CODE_APPEAL' }, now)).toBe(false)
    expect(matchesFilter(t('1', 'COMPLAINT', null), { region: '6101' }, now)).toBe(true)
    expect(matchesFilter(t('1', 'COMPLAINT', null), { region: '610103' }, now)).toBe(false)
    expect(matchesFilter(t('1', 'COMPLAINT', null), { unitId: '2' }, now)).toBe(false)
    expect(matchesFilter(t('1', 'COMPLAINT', null, { urgency: 'URGENT' }), { urgency: 'URGENT' }, now)).toBe(true)
    expect(matchesFilter(t('1', 'COMPLAINT', '2026-11-02T05:00:00Z'), { overdue: true }, now)).toBe(true)
    expect(matchesFilter(t('1', 'COMPLAINT', '2026-11-02T05:00:01Z'), { overdue: true }, now)).toBe(false)
  })
})

describe('merging a pushed ticket', () => {
  const rows = [t('1', 'CODE_APPEAL', '2026-11-02T07:00:00Z'), t('2', 'COMPLAINT', '2026-11-02T06:00:00Z'), t('3', 'COMPLAINT', null)]
  const opts = { appealsFirst: true, complete: true, now }

  it('adds a new appeal at the top and a new complaint in deadline order', () => {
    let r = mergeTicket(rows, t('9', 'CODE_APPEAL', '2026-11-02T06:30:00Z'), {}, opts)
    expect(r.change).toBe('added')
    expect(r.rows.map((x) => x.id)).toEqual(['9', '1', '2', '3'])
    r = mergeTicket(rows, t('8', 'COMPLAINT', '2026-11-02T06:10:00Z'), {}, opts)
    expect(r.rows.map((x) => x.id)).toEqual(['1', '2', '8', '3'])
  })

  it('moves a changed ticket and drops one that leaves the filters', () => {
    let r = mergeTicket(rows, t('3', 'COMPLAINT', '2026-11-02T05:30:00Z'), {}, opts)
    expect(r.change).toBe('updated')
    expect(r.rows.map((x) => x.id)).toEqual(['1', '3', '2'])
    r = mergeTicket(rows, t('2', 'COMPLAINT', null, { state: 'CLOSED' }), {}, opts)
    expect(r.change).toBe('removed')
    expect(r.rows.map((x) => x.id)).toEqual(['1', '3'])
    r = mergeTicket(rows, t('7', 'COMPLAINT', null, { state: 'CLOSED' }), {}, opts)
    expect(r.change).toBe('ignored')
    expect(r.rows).toHaveLength(3)
  })

  it('leaves a ticket of a later page to that page', () => {
    const r = mergeTicket(rows, t('10', 'COMPLAINT', null), {}, { ...opts, complete: false })
    expect(r.change).toBe('ignored')
    expect(r.rows.map((x) => x.id)).toEqual(['1', '2', '3'])
    expect(mergeTicket(rows, t('11', 'COMPLAINT', '2026-11-02T05:10:00Z'), {}, { ...opts, complete: false }).change).toBe('added')
  })
})
