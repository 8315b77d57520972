import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.session', { strict: true })))

import AppealsPage from './AppealsPage.vue'
import { api as ctx, apiClient } from '@/test/mockContext'

const appeal = (rating: unknown) => ({
  id: '42', kind: 'CODE_APPEAL', state: 'REPLIED', stateLabel: '已答复', personId: '1', subject: '赋码申诉：对「38.6℃」有异议', description: '测温枪误差',
  createdAt: '2026-11-01T02:00:00Z', updatedAt: '2026-11-01T03:00:00Z', signDue: '2026-11-01T04:00:00Z', replyDue: '2026-11-02T02:00:00Z',
  callbackDue: '2026-11-02T09:30:00Z', dueAt: null, overdue: false, satisfaction: null, rating,
  steps: [
    { id: '1', action: 'CREATE', actionLabel: '受理', to: 'ACCEPTED', role: 'RESIDENT', actorName: '', text: '测温枪误差', at: '2026-11-01T02:00:00Z' },
    { id: '2', action: 'RESOLVE_APPEAL', actionLabel: '申诉纠正', to: 'REPLIED', role: 'HANDLER', actorName: '', text: '已撤销该体温记录', at: '2026-11-01T03:00:00Z' },
  ],
})

describe('AppealsPage', () => {
  beforeEach(() => {
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
  })

  it('shows the timeline with deadlines and answers, and rates the answer once', async () => {
    let rated: Record<string, unknown> | null = null
    Object.assign(ctx.handlers, {
      MyAppeals: () => ({ myAppeals: [appeal(rated ? { satisfaction: rated.satisfaction, comment: rated.comment ?? '', at: '2026-11-01T04:00:00Z' } : null)] }),
      RateTicket: (v: Record<string, unknown>) => {
        rated = v
        return { rateTicket: appeal({ satisfaction: v.satisfaction, comment: v.comment ?? '', at: '2026-11-01T04:00:00Z' }) }
      },
    })
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/appeals', component: AppealsPage }, { path: '/:p(.*)*', component: { template: '<i/>' } }] })
    await router.push('/appeals')
    const client = apiClient({ strict: true })
    const w = mount(AppealsPage, { global: { plugins: [createPinia(), router, [urql, client]] } })
    await flushPromises()
    const card = w.get('[data-testid=appeal-42]')
    expect(card.text()).toContain('签收时限：2026-11-01 12:00')
    expect(card.text()).toContain('申诉纠正')
    expect(card.text()).toContain('已撤销该体温记录')
    expect(card.text()).toContain('承办单位')
    await card.findAll('.van-radio').find((r) => r.text() === '不满意')!.trigger('click')
    await w.get('[data-testid=rate-42] input[name="comment-42"]').setValue('太慢')
    await w.get('[data-testid=rate-42]').trigger('submit')
    await flushPromises()
    expect(rated).toMatchObject({ id: '42', satisfaction: 'DISSATISFIED', comment: '太慢' })
    expect(w.get('[data-testid=rating]').text()).toBe('不满意：太慢')
    expect(w.find('[data-testid=rate-42]').exists()).toBe(false)
  })
})
