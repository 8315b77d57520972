// Countdowns in working time: a deadline counted in working hours of working
// days (Ticket.dueInWorkingTime) skips nights, weekends and holidays, with
// the make-up working days of 调休 (workCalendar) and the working hours of
// workingHours; an appeal's deadlines run around the clock. Everything is
// China Standard Time (UTC+8, no daylight saving).

export interface WorkCalendar {
  /** Working periods of a working day, minutes after midnight: [start, end). */
  hours: [number, number][]
  /** Public holidays (YYYY-MM-DD). */
  holidays: Set<string>
  /** Make-up working days (调休, YYYY-MM-DD) that fall on weekends. */
  makeup: Set<string>
}

const CST = 8 * 3600_000
const DAY = 86_400_000

/** "08:30-12:00" → [510, 720]. */
export function parseHours(list: readonly string[]): [number, number][] {
  const out: [number, number][] = []
  for (const p of list) {
    const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(p)
    if (m) out.push([Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])])
  }
  return out
}

export function calendarOf(hours: readonly string[], days: readonly { date: string; workday: boolean }[]): WorkCalendar {
  return {
    hours: parseHours(hours),
    holidays: new Set(days.filter((d) => !d.workday).map((d) => d.date)),
    makeup: new Set(days.filter((d) => d.workday).map((d) => d.date)),
  }
}

/** The default calendar (Monday to Friday, 08:30–12:00 and 14:00–17:30) until the server's has loaded. */
export const defaultCalendar: WorkCalendar = calendarOf(['08:30-12:00', '14:00-17:30'], [])

function dateOf(cstMidnight: number): string {
  return new Date(cstMidnight).toISOString().slice(0, 10)
}

/** Whether the day (YYYY-MM-DD) is a working day. */
export function isWorkday(date: string, cal: WorkCalendar): boolean {
  if (cal.makeup.has(date)) return true
  if (cal.holidays.has(date)) return false
  const wd = new Date(`${date}T00:00:00Z`).getUTCDay()
  return wd >= 1 && wd <= 5
}

/** Working time between two instants (ms), 0 when to is not after from. */
export function workingMs(from: number, to: number, cal: WorkCalendar): number {
  if (to <= from) return 0
  let sum = 0
  // Shift into CST "wall clock" milliseconds, then walk the days.
  const f = from + CST
  const t = to + CST
  for (let day = Math.floor(f / DAY) * DAY; day < t; day += DAY) {
    if (!isWorkday(dateOf(day), cal)) continue
    for (const [s, e] of cal.hours) {
      const ps = day + s * 60_000
      const pe = day + e * 60_000
      const lo = Math.max(ps, f)
      const hi = Math.min(pe, t)
      if (hi > lo) sum += hi - lo
    }
  }
  return sum
}

export interface Countdown {
  /** Time left (negative: past the deadline), working time when `working`. */
  ms: number
  overdue: boolean
  working: boolean
  /** 剩余 3 工作小时 20 分 / 剩余 1 小时 05 分 / 已超时 2 小时 10 分. */
  text: string
  /** normal, warning (≥ 80 % used, when warnAt is known) or overdue. */
  level: 'normal' | 'warning' | 'overdue'
}

function span(ms: number, working: boolean): string {
  const min = Math.floor(ms / 60_000)
  const d = Math.floor(min / 1440)
  const h = Math.floor((min % 1440) / 60)
  const m = min % 60
  const unit = working ? '工作小时' : '小时'
  if (working) {
    const hh = Math.floor(min / 60)
    return hh > 0 ? `${hh} ${unit} ${String(m).padStart(2, '0')} 分` : `${m} 分钟`
  }
  if (d > 0) return `${d} 天 ${h} ${unit}`
  return h > 0 ? `${h} ${unit} ${String(m).padStart(2, '0')} 分` : `${m} 分钟`
}

/**
 * The countdown to a deadline at `now`. Working-time deadlines count only
 * working time left; once past, the delay is shown in clock time (a ticket is
 * overdue the moment its deadline passes, whatever the hour).
 */
export function countdown(
  now: number,
  dueAt: string,
  working: boolean,
  cal: WorkCalendar,
  warnAt?: string | null,
): Countdown {
  const due = Date.parse(dueAt)
  if (now >= due) {
    return { ms: now - due === 0 ? 0 : -(now - due), overdue: true, working, text: `已超时 ${span(now - due, false)}`, level: 'overdue' }
  }
  const ms = working ? workingMs(now, due, cal) : due - now
  const warn = warnAt ? now >= Date.parse(warnAt) : false
  return { ms, overdue: false, working, text: `剩余 ${span(ms, working)}`, level: warn ? 'warning' : 'normal' }
}
