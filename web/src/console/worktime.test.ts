import { describe, expect, it } from 'vitest'
import { calendarOf, countdown, isWorkday, workingMs } from './worktime'

// 2026 as workCalendar(2026) lists it (workcal/data/2026.json): National Day
// holidays 1–7 October, make-up working days on Sunday 20 September and
// Saturday 10 October.
const cal = calendarOf(
  ['08:30-12:00', '14:00-17:30'],
  [
    ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({ date: `2026-10-${d}`, workday: false })),
    { date: '2026-09-20', workday: true },
    { date: '2026-10-10', workday: true },
  ],
)
const cst = (s: string) => Date.parse(`${s}+08:00`)
const H = 3600_000

describe('working time', () => {
  it('knows weekends, holidays and make-up days', () => {
    expect(isWorkday('2026-11-02', cal)).toBe(true) // Monday
    expect(isWorkday('2026-11-01', cal)).toBe(false) // Sunday
    expect(isWorkday('2026-10-05', cal)).toBe(false) // Monday, a holiday
    expect(isWorkday('2026-09-20', cal)).toBe(true) // Sunday, 调休
    expect(isWorkday('2026-10-10', cal)).toBe(true) // Saturday, 调休
  })

  it('counts only working hours', () => {
    expect(workingMs(cst('2026-11-02T08:30:00'), cst('2026-11-02T17:30:00'), cal)).toBe(7 * H)
    // Friday 16:00 to Monday 10:00: 1.5 h on Friday, 1.5 h on Monday.
    expect(workingMs(cst('2026-11-06T16:00:00'), cst('2026-11-09T10:00:00'), cal)).toBe(3 * H)
    // Across the National Day holidays: 0.5 h on 30 September, 7 h on Thursday
    // 8 and Friday 9 October each, 1 h on the make-up Saturday.
    expect(workingMs(cst('2026-09-30T17:00:00'), cst('2026-10-10T09:30:00'), cal)).toBe(15.5 * H)
    expect(workingMs(cst('2026-10-01T08:00:00'), cst('2026-10-07T18:00:00'), cal)).toBe(0)
    expect(workingMs(cst('2026-11-02T12:30:00'), cst('2026-11-02T13:30:00'), cal)).toBe(0) // lunch
  })
})

describe('countdowns', () => {
  it('stands still overnight for a working-time deadline and runs for an appeal', () => {
    const due = new Date(cst('2026-11-03T10:00:00')).toISOString()
    const evening = countdown(cst('2026-11-02T18:00:00'), due, true, cal)
    const night = countdown(cst('2026-11-03T02:00:00'), due, true, cal)
    expect(evening.ms).toBe(1.5 * H)
    expect(night.ms).toBe(evening.ms)
    expect(evening.text).toBe('剩余 1 工作小时 30 分')
    const appeal = countdown(cst('2026-11-03T02:00:00'), due, false, cal)
    expect(appeal.ms).toBe(8 * H)
    expect(appeal.text).toBe('剩余 8 小时 00 分')
    expect(countdown(cst('2026-11-01T09:00:00'), due, false, cal).text).toBe('剩余 2 天 1 小时')
  })

  it('warns after 80 % and marks overdue once the deadline passes', () => {
    const due = new Date(cst('2026-11-02T12:00:00')).toISOString()
    const warn = new Date(cst('2026-11-02T11:36:00')).toISOString()
    expect(countdown(cst('2026-11-02T11:00:00'), due, false, cal, warn).level).toBe('normal')
    expect(countdown(cst('2026-11-02T11:40:00'), due, false, cal, warn)).toMatchObject({ level: 'warning', text: '剩余 20 分钟' })
    const late = countdown(cst('2026-11-02T14:10:00'), due, true, cal, warn)
    expect(late).toMatchObject({ overdue: true, level: 'overdue', text: '已超时 2 小时 10 分' })
    expect(countdown(cst('2026-11-02T12:00:00'), due, true, cal).overdue).toBe(true)
  })
})
