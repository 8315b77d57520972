import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'
import { mockClient, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console', { strict: true })))

import AppealDeskPage from './AppealDeskPage.vue'
import { api as ctx } from '@/test/mockContext'

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const attribution = (text: string) => ({ kind: 'STAFF', name: '李防疫', role: '防疫员', regionName: '西安市雁塔区', unit: '', institution: '大雁塔景区', venue: '北广场入口', text })

function ticket(state: string, steps: { action: string; text: string }[] = [], allowed = ['RESOLVE_APPEAL', 'REJECT_APPEAL', 'RETURN', 'NOTE']) {
  return {
    id: '7', kind: 'CODE_APPEAL', channel: 'ONLINE', urgency: 'NORMAL', state, stateLabel: state === 'SIGNED' ? '已签收' : '已答复',
    subject: '赋码申诉：对「38.6℃」有异议', callerMasked: '138****0103', placeCode: '610113001001',
    unit: { id: '3', name: '雁塔区疫情防控指挥部办公室', regionCode: '610113' }, regionCode: '610113', regionName: '雁塔区',
    createdAt: '2026-11-01T02:00:00Z', updatedAt: `2026-11-01T0${steps.length + 3}:00:00Z`, signDue: null, replyDue: '2026-11-02T02:00:00Z', callbackDue: null,
    dueAt: '2026-11-02T02:00:00Z', warnAt: null, overdue: false, supervised: false, extensionPending: false, reopenCount: 0,
    dueInWorkingTime: false, personId: '5', description: '当时体温正常，是测温枪离得太远测错了，附复测照片。', mergedInto: null,
    satisfaction: null, duplicates: [], allowedActions: allowed, disputedFactKind: 'HEALTH', disputedFactId: '11', rating: null,
    steps: steps.map((s, i) => ({ id: String(i + 1), action: s.action, actionLabel: s.action, from: '', to: state, role: 'HANDLER', actorName: '', by: null, unit: null, text: s.text, reason: '', visibility: 'PUBLIC', at: '2026-11-01T03:00:00Z' })),
  }
}

function view(colour: string, tk: ReturnType<typeof ticket>, retracted = false) {
  return {
    appealView: {
      ticket: tk,
      code: {
        personId: '5', colour, colourLabel: colour === 'GREEN' ? '绿码' : '黄码', ruleSetVersion: 'annex1-2020-03-31-r2', updatedAt: '2026-11-01T02:00:00Z', reevaluateAt: null,
        clauses: colour === 'GREEN'
          ? [{ id: 'G', colour: 'GREEN', citation: '附件1 一(三)', reason: '各条款均不成立', factIds: [], factKind: null }]
          : [{ id: 'Y2', colour: 'YELLOW', citation: '附件1 一(二)', reason: '2026-11-01 体温38.6℃异常', factIds: ['11'], factKind: 'HEALTH' }],
      },
      facts: [
        { kind: 'HEALTH', id: '11', summary: 'SCAN 38.6 fever', when: '2026-11-01 09:00', place: '', placeName: '', medicalKind: null, note: '',
          temperature: 38.6, symptoms: ['fever'], colour: null, pending: false, source: 'SCAN', actor: 'staff:9', enteredBy: attribution('李防疫（防疫员，北广场入口，大雁塔景区，西安市雁塔区）'),
          createdAt: '2026-11-01T01:00:00Z', retractedAt: retracted ? '2026-11-01T04:00:00Z' : null, retractReason: retracted ? '申诉工单 #7' : '' },
        { kind: 'STAY', id: '4', summary: 'RESIDENCE 610113001001', when: '2026-10-20 起至今', place: '610113001001', placeName: '小寨路社区',
          medicalKind: null, note: '', temperature: null, symptoms: [], colour: null, pending: false, source: 'RESIDENCE', actor: 'resident:3', enteredBy: { ...attribution('居民（138****0103）'), kind: 'RESIDENT' },
          createdAt: '2026-10-20T01:00:00Z', retractedAt: null, retractReason: '' },
      ],
      history: [{ id: '1', from: 'GREEN', to: 'YELLOW', clauseIds: ['Y2'], ruleSetVersion: 'r2', cause: 'scan:1', by: null, at: '2026-11-01T01:00:00Z' }],
      evidence: [
        { id: '1', contentType: 'image/png', size: 70, sha256: 'ab'.repeat(32), dataBase64: png, createdAt: '2026-11-01T02:00:00Z' },
        { id: '2', contentType: 'application/pdf', size: 2048, sha256: 'cd'.repeat(32), dataBase64: btoa('%PDF-1.4'), createdAt: '2026-11-01T02:00:00Z' },
      ],
    },
  }
}

async function mountDesk() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/appeals/:id', name: 'appealDesk', component: AppealDeskPage }, { path: '/:p(.*)*', name: 'ticket', component: { template: '<i/>' } }] })
  await router.push('/appeals/7')
  const { client } = mockClient(new Proxy({}, { get: (_, k: string) => ctx.handlers[k] }) as Handlers)
  const w = mount(AppealDeskPage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  await flushPromises()
  return w
}

describe('AppealDeskPage', () => {
  beforeEach(() => {
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
    Object.assign(ctx.handlers, {
      Region: () => ({ region: { code: '610113001001', name: '某社区', level: 'COMMUNITY', parentCode: '610113001' } }),
      HandlingUnits: () => ({ handlingUnits: [] }),
      WorkingHours: () => ({ workingHours: ['08:30-12:00', '14:00-17:30'] }),
      WorkCalendar: () => ({ workCalendar: [] }),
    })
  })

  it('shows the clause, the facts behind it with who entered them, the disputed fact, and the evidence', async () => {
    ctx.handlers.AppealDesk = () => view('YELLOW', ticket('SIGNED'))
    const w = await mountDesk()
    expect(w.get('[data-testid=desk-colour]').attributes('data-colour')).toBe('YELLOW')
    const clause = w.get('[data-testid=desk-clause-Y2]')
    expect(clause.text()).toContain('附件1 一(二)')
    const fact = clause.get('[data-testid=desk-fact-HEALTH-11]')
    expect(fact.text()).toContain('卡口扫码')
    expect(fact.text()).toContain('38.6℃ 发热 2026-11-01 09:00')
    expect(fact.text()).not.toContain('SCAN 38.6 fever')
    // Only the facts of the clause's kind: the residence (STAY 4) is not one.
    expect(clause.find('[data-testid=desk-fact-STAY-4]').exists()).toBe(false)
    expect(w.text()).toContain('小寨路社区 2026-10-20 起至今')
    expect(fact.text()).toContain('李防疫（防疫员，北广场入口，大雁塔景区，西安市雁塔区）')
    expect(fact.text()).toContain('居民有异议')
    expect(fact.classes()).toContain('disputed')
    const evidence = w.get('[data-testid=appeal-evidence]')
    expect(evidence.get('[data-testid=explanation]').text()).toBe('当时体温正常，是测温枪离得太远测错了，附复测照片。')
    expect(evidence.get('[data-testid=evidence-image]').attributes('src')).toBe(`data:image/png;base64,${png}`)
    expect(evidence.get('[data-testid=evidence-2]').text()).toContain('application/pdf · 2 KB')
    expect(evidence.find('[data-testid=evidence-pdf]').exists()).toBe(true)
    expect(evidence.text()).toContain(`SHA-256 ${'ab'.repeat(8)}`)
    w.unmount()
  })

  it('retracts the disputed fact and shows the code after the correction', async () => {
    let resolved: Record<string, unknown> | null = null
    ctx.handlers.AppealDesk = () => (resolved ? view('GREEN', ticket('REPLIED', [{ action: 'RESOLVE_APPEAL', text: 'x' }], []), true) : view('YELLOW', ticket('SIGNED')))
    ctx.handlers.ResolveAppeal = (v) => {
      resolved = v
      return { resolveAppeal: ticket('REPLIED', [{ action: 'RESOLVE_APPEAL', text: '经核实为测温误差' }], []) }
    }
    const w = await mountDesk()
    await w.get('textarea[data-testid=correction-text]').setValue('经核实为测温误差，已撤销该体温记录')
    await w.get('[data-testid=appeal-correction] form').trigger('submit')
    await flushPromises()
    await flushPromises()
    expect(resolved).toMatchObject({ id: '7', correction: { retractKind: 'HEALTH', retractId: '11', recordKind: null } })
    const outcome = w.get('[data-testid=correction-outcome]')
    expect(outcome.attributes('data-outcome')).toBe('applied')
    expect(outcome.text()).toContain('纠正已生效，健康码现为绿码')
    expect(w.get('[data-testid=desk-colour]').attributes('data-colour')).toBe('GREEN')
    w.unmount()
  })

  it('shows a correction waiting for a second approver', async () => {
    ctx.handlers.AppealDesk = () => view('YELLOW', ticket('SIGNED'))
    ctx.handlers.ResolveAppeal = () => ({
      resolveAppeal: ticket('SIGNED', [{ action: 'REQUEST_APPROVAL', text: '解除红码的纠正须经第二人审核' }], []),
    })
    const w = await mountDesk()
    await w.get('textarea[data-testid=correction-text]').setValue('已核实')
    await w.get('[data-testid=appeal-correction] form').trigger('submit')
    await flushPromises()
    const outcome = w.get('[data-testid=correction-outcome]')
    expect(outcome.attributes('data-outcome')).toBe('pending')
    expect(outcome.text()).toContain('等待第二人审核')
    expect(outcome.text()).toContain('解除红码的纠正须经第二人审核')
    w.unmount()
  })
})
