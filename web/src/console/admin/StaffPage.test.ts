import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, gqlError, type Handlers } from '@/test/mockClient'
import { $, click, fieldError, setField as set } from '@/test/fields'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import StaffPage from './StaffPage.vue'
import RegionSelect from '../components/RegionSelect.vue'
import { useAccount } from '../account'
import { api as ctx } from '@/test/mockContext'

const region = (code: string, name: string) => ({ code, name })
const grant = (id: string, role: string, roleLabel: string, code: string, name: string, pending = false) => ({
  id, role, roleLabel, regionCode: code, region: region(code, name), grantedAt: '2026-11-01T00:00:00Z', pending,
})
const staff = [
  {
    id: '21', username: 'li.handler', displayName: '李承办', region: region('610113', '雁塔区'), createdAt: '2026-11-01T00:00:00Z', disabled: false,
    phone: '139****0001', phoneVerified: true, grants: [grant('31', 'HANDLER', '承办人员', '610113', '雁塔区')],
  },
  {
    id: '22', username: 'wang.health', displayName: '王卫健', region: region('610113', '雁塔区'), createdAt: '2026-11-01T00:00:00Z', disabled: false,
    phone: '', phoneVerified: false, grants: [grant('32', 'HEALTH_OFFICER', '卫生健康人员', '610113', '雁塔区', true)],
  },
]

async function mountPage() {
  const pinia = createPinia()
  setActivePinia(pinia)
  const account = useAccount()
  account.me = {
    kind: 'STAFF', id: '1', name: '省级管理员', staff: { id: '1', username: 'admin', displayName: '省级管理员', phone: '199****0001', phoneVerified: true },
    grants: [{ id: '1', role: 'ADMIN', roleLabel: '六级管理员', regionCode: '61', region: { code: '61', name: '陕西省', level: 'PROVINCE' } }],
  } as never
  const { client } = mockClient({} as Handlers)
  const w = mount(StaffPage, { global: { plugins: [pinia, [urql, client]], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('StaffPage', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    document.body.innerHTML = ''
    ctx.handlers = {
      Regions: () => ({ regions: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }),
      StaffList: () => ({ staff: { nodes: staff, pageInfo: { hasNextPage: false, endCursor: null } } }),
    }
  })

  it('lists accounts with their phone state and grants by region name, the pending one with its approval', async () => {
    const w = await mountPage()
    const table = w.get('[data-testid=staff-table]').text()
    expect(table).toContain('承办人员 · 雁塔区')
    expect(table).toContain('卫生健康人员 · 雁塔区（待审核）')
    expect(table).not.toContain('610113')
    expect(w.get('[data-testid=phone-li\\.handler]').text()).toBe('已验证')
    expect(w.get('[data-testid=phone-wang\\.health]').text()).toBe('未验证')
    expect(w.find('[data-testid=approve-31]').exists()).toBe(false)

    // The API refuses the approval (the granter's own person): its message is shown, nothing reloads.
    ctx.handlers.ApproveGrant = () => gqlError('FORBIDDEN', '授权须由上级管理员中的另一人审核')
    const before = ctx.calls.filter(([k]) => k === 'StaffList').length
    await w.get('[data-testid=approve-32]').trigger('click')
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'ApproveGrant')?.[1]).toEqual({ grantId: '32' })
    expect(document.body.textContent).toContain('授权须由上级管理员中的另一人审核')
    expect(ctx.calls.filter(([k]) => k === 'StaffList').length).toBe(before)
    w.unmount()
  }, 30_000)

  it('puts the server\'s validation message under the field it names, and creates the account once valid', async () => {
    const w = await mountPage()
    await w.get('[data-testid=staff-create]').trigger('click')
    await flushPromises()
    await set(w, 'staff-username', 'zhang')
    await set(w, 'staff-name', '张三')
    await set(w, 'staff-password', 'short')
    // No home region yet: asked for before any call.
    await click('[data-testid=staff-submit]')
    expect(ctx.calls.some(([k]) => k === 'CreateStaff')).toBe(false)
    expect($('[data-testid=staff-form]')!.textContent).toContain('请选择所属地区')

    w.findComponent(RegionSelect).vm.$emit('update:modelValue', '610113')
    await flushPromises()
    ctx.handlers.CreateStaff = () => gqlError('INVALID', '密码至少 10 位，且须包含字母和数字')
    await click('[data-testid=staff-submit]')
    expect(fieldError('[data-testid=staff-form]', '初始密码')).toBe('密码至少 10 位，且须包含字母和数字')
    expect($('[data-testid=staff-form] .el-alert')).toBeNull()

    ctx.handlers.CreateStaff = (v) => ({ createStaff: { id: '23', username: (v.input as { username: string }).username } })
    await set(w, 'staff-password', 'healthcode2026')
    await click('[data-testid=staff-submit]')
    expect(ctx.calls.filter(([k]) => k === 'CreateStaff').at(-1)?.[1]).toEqual({
      input: { username: 'zhang', displayName: '张三', password: 'healthcode2026', region: '610113', phone: null },
    })
    w.unmount()
  }, 30_000)

  it('grants a role in the region picked, noting that an approving role waits for the parent region', async () => {
    ctx.handlers.GrantRole = (v) => ({ grantRole: grant('33', v.role as string, '六级管理员', v.region as string, '长延堡街道', true) })
    const w = await mountPage()
    await w.get('[data-testid=grant-li\\.handler]').trigger('click')
    await flushPromises()
    await click('[data-testid=grant-submit]')
    expect(ctx.calls.some(([k]) => k === 'GrantRole')).toBe(false)
    expect($('[data-testid=grant-form]')!.textContent).toContain('请选择角色')

    expect($('[data-testid=grant-approval-note]')).toBeNull()
    await set(w, 'grant-role', 'ADMIN')
    expect($('[data-testid=grant-approval-note]')).not.toBeNull()
    w.findAllComponents(RegionSelect).at(-1)!.vm.$emit('update:modelValue', '610113004')
    await flushPromises()
    await click('[data-testid=grant-submit]')
    expect(ctx.calls.find(([k]) => k === 'GrantRole')?.[1]).toEqual({ staffId: '21', role: 'ADMIN', region: '610113004' })
    expect(document.body.textContent).toContain('须上级地区的另一名管理员审核后生效')
    w.unmount()
  }, 30_000)
})
