import { describe, expect, it } from 'vitest'
import { actorLabel, causeLabel, factsFor, factText } from './explain'
import type { FactLike } from '@/shared/facts'

// A fact as the API gives it; the summary is deliberately unlike the text
// factText writes, so a test passes only when the fields are used.
const fact = (kind: string, id: string, fields: Partial<FactLike> = {}) => ({
  kind, id, summary: 'AS STORED', source: 'TRAVEL', actor: 'resident:1', createdAt: '2026-11-01T02:00:00Z', retractedAt: null, retractReason: '',
  when: '', place: '', placeName: '', medicalKind: null, note: '', temperature: null, symptoms: [], colour: null, pending: false, ...fields,
})

describe('explaining a code', () => {
  it('picks the facts of a clause by the kind the API names, since ids repeat across kinds', () => {
    const facts = [fact('STAY', '2'), fact('HEALTH', '2'), fact('HEALTH', '3')]
    expect(factsFor({ factIds: ['2'], factKind: 'STAY' }, facts).map((f) => f.kind)).toEqual(['STAY'])
    expect(factsFor({ factIds: ['2'], factKind: 'HEALTH' }, facts).map((f) => `${f.kind}:${f.id}`)).toEqual(['HEALTH:2'])
    // A clause without a kind (a code stored before clauses named it).
    expect(factsFor({ factIds: ['2'], factKind: null }, facts)).toHaveLength(2)
    expect(factsFor({ factIds: [], factKind: null }, facts)).toHaveLength(0)
  })
  it('says facts from their fields, actors and causes in words', () => {
    expect(factText(fact('STAY', '1', { place: 'ABROAD:US', when: '2026-10-28 至 2026-10-29' }))).toBe('境外（美国） 2026-10-28 至 2026-10-29')
    // The API's name wins over the web's own list (a country the list does not have).
    expect(factText(fact('STAY', '1', { place: 'ABROAD:BR', placeName: '境外（巴西）', when: '2026-10-28' }))).toBe('境外（巴西） 2026-10-28')
    expect(factText(fact('STAY', '1', { place: '4201', when: '2026-10-28 起至今' }))).toBe('湖北省（4201） 2026-10-28 起至今')
    expect(factText(fact('STAY', '1', { place: '610113', placeName: '雁塔区', when: '2026-10-28 09:00', temperature: 38.6 }))).toBe('雁塔区 2026-10-28 09:00 38.6℃')
    expect(factText(fact('MEDICAL', '1', { medicalKind: 'CONFIRMED', when: '2026-11-21 10:00' }))).toBe('确诊 2026-11-21 10:00')
    expect(factText(fact('MEDICAL', '1', { medicalKind: 'CLOSE_CONTACT', when: '2026-10-28 00:00', note: '同乘' }))).toBe('密切接触 2026-10-28 00:00 同乘')
    expect(factText(fact('HEALTH', '1', { temperature: 37.8, symptoms: ['fever', 'cough'], when: '2026-10-28 00:00' }))).toBe('37.8℃ 发热、咳嗽 2026-10-28 00:00')
    expect(factText(fact('HEALTH', '1', { temperature: 36.5, when: '2026-10-29 08:00' }))).toBe('36.5℃ 2026-10-29 08:00')
    expect(factText(fact('DESIGNATION', '1', { colour: 'RED', note: '流调发现同乘', pending: true, when: '至 2026-12-09' }))).toBe('红码 流调发现同乘（待审核） 至 2026-12-09')
    expect(factText(fact('OTHER', '1'))).toBe('AS STORED')
    expect(actorLabel('staff:12')).toBe('工作人员')
    expect(actorLabel('resident:3')).toBe('本人或监护人')
    expect(causeLabel('area_risk:4')).toBe('地区风险等级调整')
    expect(causeLabel('declaration:12')).toBe('健康申报')
  })
})
