import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.session', { strict: true })))

import CodePage from './CodePage.vue'
import { api as ctx, apiClient } from '@/test/mockContext'

const yellow = {
  personId: '7', colour: 'YELLOW', colourLabel: '黄码', ruleSetVersion: 'annex1-2020-03-31', updatedAt: '2026-11-01T02:00:00Z', reevaluateAt: null,
  clauses: [{ id: 'Y2', colour: 'YELLOW', citation: '附件1 一(二)、四(三)、四(四)', factIds: ['5'], factKind: 'HEALTH',
    checkIns: { needed: 14, done: 2 },
    reason: '2026-11-01 10:00体温38.6℃，超过37.3℃，须此后连续14天每日健康打卡体温正常、无症状方可转绿（最近已连续0天）' }],
}
const green = { ...yellow, colour: 'GREEN', colourLabel: '绿码', updatedAt: '2026-11-01T02:01:00Z', clauses: [] }
const facts = [
  { kind: 'HEALTH', id: '5', summary: '38.6℃ 2026-11-01 10:00', when: '2026-11-01 10:00', place: '', placeName: '', medicalKind: null, note: '',
    temperature: 38.6, symptoms: ['fever'], colour: null, pending: false, source: 'SCAN', actor: 'staff:14', createdAt: '2026-11-01T02:00:00Z', retractedAt: null, retractReason: '' },
  { kind: 'STAY', id: '5', summary: 'RESIDENCE 610113001001 2026-11-01 10:00 至 今', when: '2026-11-01 10:00 起至今', place: '610113001001',
    placeName: '小寨路社区', medicalKind: null, note: '', temperature: null, symptoms: [], colour: null, pending: false, source: 'RESIDENCE', actor: 'resident:1', createdAt: '2026-11-01T02:00:00Z', retractedAt: null, retractReason: '' },
]

describe('CodePage', () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    vi.setSystemTime(new Date('2026-11-01T02:00:30Z'))
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
  })
  afterEach(() => vi.useRealTimers())

  it('explains the colour with the facts and who entered them, and turns green without a reload', async () => {
    let code = yellow
    let credentials = 0
    let opened = 0
    Object.assign(ctx.handlers, {
      MyPersons: () => ({ myDependents: [{ id: '7', name: '赵测温', docType: 'ID_CARD', docNumber: '610113198501011040', phone: '13800000103',
        residenceCode: '610113001001', address: 'x', employer: '', relation: 'SELF', code: { colour: code.colour, colourLabel: code.colourLabel } }] }),
      MyCode: () => ({ myCode: code }),
      MyCredential: () => {
        credentials++
        return { myCredential: { token: `tok-${credentials}`, colour: code.colour, colourLabel: code.colourLabel, maskedName: '赵*温',
          issuedAt: '2026-11-01T02:00:00Z', expiresAt: '2026-11-01T02:05:00Z' } }
      },
      CodePage: () => {
        opened++
        credentials++
        return { myCode: code, myCredential: { token: `tok-${credentials}`, colour: code.colour, colourLabel: code.colourLabel, maskedName: '赵*温',
          issuedAt: '2026-11-01T02:00:00Z', expiresAt: '2026-11-01T02:05:00Z' } }
      },
      MyFacts: () => ({ myFacts: facts }),
      CodeHistory: () => ({ codeHistory: [{ id: '1', from: null, to: 'GREEN', clauseIds: [], cause: 'declaration:1', actor: 'resident:1', at: '2026-11-01T01:00:00Z' }] }),
    })
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: CodePage }, { path: '/:p(.*)*', component: { template: '<i/>' } }] })
    await router.push('/')
    const w = mount(CodePage, { global: { plugins: [createPinia(), router] } })
    await flushPromises()

    expect(w.get('[data-testid=code-card]').attributes('data-colour')).toBe('YELLOW')
    const clause = w.get('[data-testid=clause-Y2]').text()
    expect(clause).toContain('附件1 一(二)、四(三)、四(四)')
    expect(clause).toContain('体温38.6℃')
    expect(clause).toContain('38.6℃ 发热 2026-11-01 10:00') // the fact, from its fields
    expect(clause).toContain('卡口扫码 · 工作人员 · 2026-11-01 10:00') // who entered it and when
    expect(clause).not.toContain('小寨路社区') // the residence stay shares the id but is not of Y2's kind
    // The progress is the clause's checkIns, not read from the reason (which says 0).
    expect(clause).toContain('已连续正常打卡 2 天，还需 12 天')
    expect(credentials).toBe(1)
    expect(opened).toBe(1) // the code and its token in one request (MyCredential would count a second token)

    code = green // a handler corrects the fact elsewhere
    vi.advanceTimersByTime(10_000)
    await flushPromises()
    expect(w.get('[data-testid=code-card]').attributes('data-colour')).toBe('GREEN')
    expect(w.get('[data-testid=colour-label]').text()).toBe('绿码')
    expect(credentials).toBe(2) // a new token in the new colour
    expect(w.text()).toContain('未发现需赋黄码或红码的情形')
    w.unmount()
  })

  it('invites a resident without a code to declare', async () => {
    Object.assign(ctx.handlers, {
      MyPersons: () => ({ myDependents: [] }),
      MyCode: () => ({ errors: [{ message: '未找到健康码，请先申报', extensions: { code: 'NOT_FOUND' } }] }),
    })
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: CodePage }, { path: '/:p(.*)*', component: { template: '<i/>' } }] })
    await router.push('/')
    const w = mount(CodePage, { global: { plugins: [createPinia(), router] } })
    await flushPromises()
    expect(w.find('[data-testid=no-code]').exists()).toBe(true)
    expect(w.text()).toContain('立即申报')
    w.unmount()
  })
})
