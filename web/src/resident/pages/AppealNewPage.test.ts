import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.session', { strict: true })))

import AppealNewPage from './AppealNewPage.vue'
import { api as ctx, apiClient } from '@/test/mockContext'

const fever = { kind: 'HEALTH', id: '9', summary: '38.6℃ 2026-11-01 10:00', when: '2026-11-01 10:00', place: '', placeName: '', medicalKind: null, note: '',
  temperature: 38.6, symptoms: [], colour: null, pending: false, source: 'SCAN', actor: 'staff:14', createdAt: '2026-11-01T02:00:00Z', retractedAt: null, retractReason: '' }

async function mountPage() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/appeals/new', component: AppealNewPage }, { path: '/appeals', name: 'appeals', component: { template: '<i/>' } }],
  })
  await router.push('/appeals/new')
  const client = apiClient({ strict: true })
  const w = mount(AppealNewPage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

function choose(w: Awaited<ReturnType<typeof mountPage>>['w'], file: File) {
  const input = w.get('[data-testid=evidence]').element as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [file], configurable: true })
  return w.get('[data-testid=evidence]').trigger('change')
}

describe('AppealNewPage', () => {
  let filed: Record<string, unknown> | null
  beforeEach(() => {
    filed = null
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
    Object.assign(ctx.handlers, {
      MyPersons: () => ({ myDependents: [] }),
      MyFacts: () => ({ myFacts: [fever] }),
      MyCode: () => ({ myCode: { personId: '1', colour: 'YELLOW', colourLabel: '黄码', ruleSetVersion: 'v', updatedAt: '2026-11-01T02:00:00Z', reevaluateAt: null,
        clauses: [{ id: 'Y2', colour: 'YELLOW', citation: 'c', reason: 'r', factIds: ['9'], factKind: 'HEALTH', checkIns: null }] } }),
      FileAppeal: (v: Record<string, unknown>) => {
        filed = v.input as Record<string, unknown>
        return { fileAppeal: { id: '42', kind: 'CODE_APPEAL', state: 'ACCEPTED', stateLabel: '已受理', personId: '1', subject: 's', description: 'd',
          createdAt: '2026-11-01T02:00:00Z', updatedAt: '2026-11-01T02:00:00Z', signDue: null, replyDue: null, callbackDue: null, dueAt: null,
          overdue: false, satisfaction: null, steps: [], rating: null } }
      },
    })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('refuses evidence over 512 KB or of another type before sending', async () => {
    const { w } = await mountPage()
    await choose(w, new File([new Uint8Array(512 * 1024 + 1)], 'big.jpg', { type: 'image/jpeg' }))
    await flushPromises()
    expect(w.text()).toContain('文件超过 512 KB，请压缩后再上传')
    await choose(w, new File(['GIF89a'], 'x.gif', { type: 'image/gif' }))
    await flushPromises()
    expect(w.text()).toContain('只支持 JPG、PNG 图片或 PDF 文件')
    expect(w.find('[data-testid=evidence-chosen]').exists()).toBe(false)
  })

  it('files the appeal with the disputed fact and the PDF', async () => {
    const { w, router } = await mountPage()
    expect(w.text()).toContain('卡口扫码 · 工作人员')
    await w.get('[data-testid=fact-HEALTH-9]').trigger('click')
    await w.get('[data-testid=appeal-reason] textarea').setValue('测温枪误差')
    await choose(w, new File(['%PDF-1.4 x'], '复测.pdf', { type: 'application/pdf' }))
    await vi.waitFor(() => expect(w.find('[data-testid=evidence-chosen]').exists()).toBe(true))
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(filed).toMatchObject({ reason: '测温枪误差', factKind: 'HEALTH', factId: '9', evidenceType: 'application/pdf', evidenceBase64: btoa('%PDF-1.4 x') })
    expect(router.currentRoute.value.fullPath).toBe('/appeals?id=42')
  })
})
