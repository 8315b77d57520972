// Dates and times as residents read them: China Standard Time, 24-hour.
const tz = 'Asia/Shanghai'

const dtf = new Intl.DateTimeFormat('zh-CN', {
  timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
})
const dtfs = new Intl.DateTimeFormat('zh-CN', {
  timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
})
const df = new Intl.DateTimeFormat('zh-CN', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })

function parts(f: Intl.DateTimeFormat, d: Date): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of f.formatToParts(d)) out[p.type] = p.value
  return out
}

function toDate(v: string | number | Date): Date {
  return v instanceof Date ? v : new Date(v)
}

/** 2026-11-01 10:05 */
export function formatTime(v: string | number | Date | null | undefined): string {
  if (v == null) return ''
  const p = parts(dtf, toDate(v))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** 2026-11-01 10:05:09 */
export function formatClock(v: string | number | Date): string {
  const p = parts(dtfs, toDate(v))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** 2026-11-01 (the day in China). */
export function formatDate(v: string | number | Date): string {
  const p = parts(df, toDate(v))
  return `${p.year}-${p.month}-${p.day}`
}

/** Today's date in China, YYYY-MM-DD. */
export function today(now: Date = new Date()): string {
  return formatDate(now)
}

/** The date n days after (negative: before) a YYYY-MM-DD date. */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const t = new Date(Date.UTC(y, m - 1, d + n))
  return t.toISOString().slice(0, 10)
}
