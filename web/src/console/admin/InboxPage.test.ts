import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'
import { mockClient, gqlError, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import InboxPage from './InboxPage.vue'
import { useInbox } from '../inbox'
import { api as ctx } from '@/test/mockContext'

const me = (role: string) => ({
  me: { kind: 'STAFF', id: '5', name: '甲', staff: { id: '5', username: 'yanta_health2', displayName: '甲' }, grants: [{ id: 'g1', role, roleLabel: role, regionCode: '610113', region: { code: '610113', name: '雁塔区', level: 3 } }] },
})
const by = (id: string, name: string) => ({ subject: `staff:${id}`, name, role: '卫生健康人员', unit: '', regionName: '西安市雁塔区' })
const request = (id: string, requester: ReturnType<typeof by>) => ({
  id, kind: 'MEDICAL', personId: '7', region: '610113', summary: '确诊 2026-12-01', requestedAt: '2026-12-01T00:00:00Z', expiresAt: '2026-12-04T00:00:00Z',
  maskedName: '*红梅', colour: 'GREEN', resultColour: 'RED', requestedBy: requester,
})

async function mountPage() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: InboxPage }, { path: '/r', name: 'ruleSets', component: InboxPage }] })
  await router.push('/')
  const { client } = mockClient({} as Handlers)
  const w = mount(InboxPage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('InboxPage', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    ctx.handlers = {
      ConsoleMe: () => me('HEALTH_OFFICER'),
      PendingColourRequests: () => ({ colourRequests: [request('1', by('4', '乙')), request('2', by('5', '甲'))] }),
      ApproveColourRequest: (v) => ({ approveColourRequest: { id: v.id, status: 'APPROVED' } }),
    }
  })

  it('approves another officer\'s request; the caller\'s own is shown but cannot be approved', async () => {
    const w = await mountPage()
    const table = w.get('[data-testid=inbox-colour]').text()
    expect(table).toContain('*红梅')
    expect(table).toContain('乙（卫生健康人员，西安市雁塔区）')
    expect(w.get('[data-testid=result-1]').text()).toBe('红码')
    expect(w.get('[data-testid=approve-request-2]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid=own-request-2]').text()).toContain('另一名工作人员')
    expect(w.get('[data-testid=reject-request-2]').text()).toBe('撤回')
    // The menu's count is what the caller may decide: its own request is not.
    expect(useInbox().count).toBe(1)
    expect(w.get('[data-testid=approve-request-1]').attributes('disabled')).toBeUndefined()
    await w.get('[data-testid=approve-request-1]').trigger('click')
    await flushPromises()
    expect(ctx.calls.filter(([k]) => k === 'ApproveColourRequest')).toEqual([['ApproveColourRequest', { id: '1' }]])
    // Reloaded after the decision.
    expect(ctx.calls.filter(([k]) => k === 'PendingColourRequests').length).toBe(2)
    w.unmount()
  }, 30_000)

  it('shows the API\'s refusal in Chinese', async () => {
    ctx.handlers.ApproveColourRequest = () => gqlError('FORBIDDEN', '请先验证本人手机号：双人复核须由实名验证的工作人员提出和审核')
    const w = await mountPage()
    await w.get('[data-testid=approve-request-1]').trigger('click')
    await flushPromises()
    expect(document.body.textContent).toContain('请先验证本人手机号')
    w.unmount()
  }, 30_000)

  it('lists the pending grants the API says an administrator may approve, and approves one', async () => {
    ctx.handlers.ConsoleMe = () => me('ADMIN')
    const grant = (id: string) => ({
      id, role: 'HEALTH_OFFICER', roleLabel: '卫生健康人员', regionCode: '610113', region: { code: '610113', name: '雁塔区' }, grantedAt: '2026-12-01T00:00:00Z',
      pending: true, grantedBy: by('9', '丙'), grantee: { ...by(id === '30' ? '8' : '11', id === '30' ? '新人' : '另一人'), role: '' },
    })
    // Two pages: the inbox reads them all.
    ctx.handlers.PendingGrants = (v) => v.after
      ? { pendingGrants: { nodes: [grant('31')], pageInfo: { hasNextPage: false, endCursor: 'c31' } } }
      : { pendingGrants: { nodes: [grant('30')], pageInfo: { hasNextPage: true, endCursor: 'c30' } } }
    ctx.handlers.ApproveGrant = (v) => ({ approveGrant: { ...grant(String(v.grantId)), pending: false } })
    const w = await mountPage()
    expect(ctx.calls.some(([k]) => k === 'PendingColourRequests' || k === 'StaffList')).toBe(false)
    expect(ctx.calls.filter(([k]) => k === 'PendingGrants').map(([, v]) => v.after)).toEqual([null, 'c30'])
    const rows = w.findAll('[data-testid=inbox-grants] .el-table__body tr')
    expect(rows.length).toBe(2)
    expect(rows[0]!.text()).toContain('新人（西安市雁塔区）')
    expect(rows[0]!.text()).toContain('丙（卫生健康人员，西安市雁塔区）')
    expect(rows[0]!.text()).toContain('雁塔区')
    expect(useInbox().count).toBe(2)
    expect(w.get('[data-testid=approve-grant-31]').attributes('disabled')).toBeUndefined()
    await w.get('[data-testid=approve-grant-30]').trigger('click')
    await flushPromises()
    expect(ctx.calls.filter(([k]) => k === 'ApproveGrant')).toEqual([['ApproveGrant', { grantId: '30' }]])
    expect(document.body.textContent).toContain('授权已生效')
    // Reloaded after the decision.
    expect(ctx.calls.filter(([k]) => k === 'PendingGrants').length).toBe(4)
    w.unmount()
  }, 30_000)

  it('shows a refusal of the pending grants in Chinese', async () => {
    ctx.handlers.ConsoleMe = () => me('ADMIN')
    ctx.handlers.PendingGrants = () => gqlError('FORBIDDEN', '无权执行此操作')
    const w = await mountPage()
    expect(w.get('[role=alert]').text()).toContain('无权执行此操作')
    expect(useInbox().count).toBe(0)
    w.unmount()
  }, 30_000)
})
