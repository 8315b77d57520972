// The supervision indicators as the charts aggregate them by week
// (indicators.go: RATIO sums numerators and denominators, COUNT sums, LEVEL
// takes the last day), with their Chinese names.
export type IndicatorKind = 'RATIO' | 'COUNT' | 'LEVEL'

export const indicators: { id: string; name: string; kind: IndicatorKind; scale: number }[] = [
  { id: 'COVERAGE', name: '健康码覆盖率', kind: 'RATIO', scale: 100 },
  { id: 'COVERAGE_GROWTH', name: '覆盖率增长', kind: 'RATIO', scale: 100 },
  { id: 'SCANS_PER_1000', name: '每千人扫码查验数', kind: 'RATIO', scale: 1000 },
  { id: 'CHECKPOINT_TYPES', name: '查验场所类型覆盖率', kind: 'RATIO', scale: 100 },
  { id: 'DATA_TIMELINESS', name: '数据推送及时率', kind: 'RATIO', scale: 100 },
  { id: 'WEEKLY_REPORT', name: '周报按时报送率', kind: 'RATIO', scale: 100 },
  { id: 'JOINT_MEETING', name: '联席会议名单按时报送率', kind: 'RATIO', scale: 100 },
  { id: 'HOTLINE_RESPONSE', name: '12320响应率', kind: 'RATIO', scale: 100 },
  { id: 'HOTLINE_RESOLUTION', name: '12320办结率', kind: 'RATIO', scale: 100 },
  { id: 'HOTLINE_SATISFACTION', name: '12320满意率', kind: 'RATIO', scale: 100 },
  { id: 'HOTLINE_OVERDUE', name: '12320超期件数', kind: 'COUNT', scale: 1 },
  { id: 'HOTLINE_RETURN', name: '12320退回率', kind: 'RATIO', scale: 100 },
  { id: 'HOTLINE_REOPEN', name: '12320重办率', kind: 'RATIO', scale: 100 },
  { id: 'DEVIATIONS_OPEN', name: '未纠正偏差数', kind: 'LEVEL', scale: 1 },
  { id: 'DEVIATIONS_CORRECTED', name: '已纠正偏差数', kind: 'COUNT', scale: 1 },
]

export interface Point {
  day: string
  numerator: number
  denominator: number
  value?: number | null
}

/** One value per week (weeks start on the Mondays given), null for a week without data. */
export function weekly(points: readonly Point[], mondays: readonly string[], id: string): (number | null)[] {
  const ind = indicators.find((i) => i.id === id) ?? { kind: 'RATIO' as const, scale: 100 }
  return mondays.map((monday, i) => {
    const end = mondays[i + 1] ?? '9999-12-31'
    const week = points.filter((p) => p.day >= monday && p.day < end)
    if (!week.length) return null
    if (ind.kind === 'LEVEL') return week[week.length - 1]!.numerator
    const num = week.reduce((s, p) => s + p.numerator, 0)
    if (ind.kind === 'COUNT') return num
    const den = week.reduce((s, p) => s + p.denominator, 0)
    return den > 0 ? Math.round((num / den) * ind.scale * 100) / 100 : null
  })
}

/** The Monday (YYYY-MM-DD) of the week that contains a date. */
export function mondayOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`)
  const back = (d.getUTCDay() + 6) % 7
  d.setUTCDate(d.getUTCDate() - back)
  return d.toISOString().slice(0, 10)
}
