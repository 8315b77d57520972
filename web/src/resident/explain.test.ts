import { describe, expect, it } from 'vitest'
import { actorLabel, causeLabel, checkInProgress, factsFor, factText } from './explain'

const fact = (kind: string, id: string, summary: string, source = 'TRAVEL') => ({
  kind: kind as 'STAY', id, summary, source, actor: 'resident:1', createdAt: '2026-11-01T02:00:00Z', retractedAt: null, retractReason: '',
})

describe('explaining a code', () => {
  it('picks the facts of a clause by kind, since ids repeat across kinds', () => {
    const facts = [fact('STAY', '2', 'TRAVEL 4201 2026-10-28 00:00 至 2026-10-30 00:00'), fact('HEALTH', '2', '38.6℃ 2026-11-01 10:00', 'SCAN')]
    expect(factsFor({ id: 'Y1', factIds: ['2'] }, facts).map((f) => f.kind)).toEqual(['STAY'])
    expect(factsFor({ id: 'Y2', factIds: ['2'] }, facts).map((f) => f.kind)).toEqual(['HEALTH'])
    expect(factsFor({ id: 'Z9', factIds: ['2'] }, facts)).toHaveLength(2)
  })
  it('reads what remains before green from the reason', () => {
    expect(checkInProgress('2026-11-01 10:00体温38.6℃，超过37.3℃，须此后连续14天每日健康打卡体温正常、无症状方可转绿（最近已连续3天）（附件1 一(二)）')).toEqual({ need: 14, done: 3 })
    expect(checkInProgress('14天内有中风险地区旅居史')).toBeNull()
  })
  it('says facts, actors and causes in words', () => {
    expect(factText(fact('STAY', '1', 'TRAVEL ABROAD:US 2026-10-28 至 2026-10-29'))).toBe('境外·美国 2026-10-28 至 2026-10-29')
    expect(factText(fact('STAY', '1', 'TRAVEL 4201 2026-10-28 起至今'))).toBe('湖北省（4201） 2026-10-28 起至今')
    // Days of a date are not province codes (21 辽宁, 13 河北).
    expect(factText(fact('STAY', '1', 'TRAVEL 110101 2026-11-13 至 2026-11-21'))).toBe('北京市（110101） 2026-11-13 至 2026-11-21')
    expect(factText(fact('MEDICAL', '1', 'CONFIRMED 2026-11-21 10:00', 'HEALTH_AUTHORITY'))).toBe('确诊 2026-11-21 10:00')
    expect(factText(fact('MEDICAL', '1', 'CLOSE_CONTACT 2026-10-28 00:00', 'HEALTH_AUTHORITY'))).toBe('密切接触 2026-10-28 00:00')
    expect(factText(fact('HEALTH', '1', '37.8℃ fever,cough 2026-10-28 00:00', 'CHECKIN'))).toBe('37.8℃ 发热,咳嗽 2026-10-28 00:00')
    expect(factText(fact('STAY', '1', 'SCAN 610113 2026-10-28 09:00 38.6℃', 'SCAN'), { '610113': '雁塔区' })).toBe('雁塔区 2026-10-28 09:00 38.6℃')
    expect(actorLabel('staff:12')).toBe('工作人员')
    expect(actorLabel('resident:3')).toBe('本人或监护人')
    expect(causeLabel('area_risk:4')).toBe('地区风险等级调整')
    expect(causeLabel('declaration:12')).toBe('健康申报')
  })
})
