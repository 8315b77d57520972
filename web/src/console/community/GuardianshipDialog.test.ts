import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, gqlError, type Handlers } from '@/test/mockClient'
import { $, click, fieldError, setField } from '@/test/fields'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import GuardianshipDialog from './GuardianshipDialog.vue'
import { api as ctx } from '@/test/mockContext'

const ev = (id: string, event: string, basis: string, byRole: string | null, reason: string, at: string) => ({
  id, event, basis, account: '138****0001', byRole, reason, at,
})

async function mountDialog() {
  const { client } = mockClient({} as Handlers)
  const w = mount(GuardianshipDialog, {
    props: { person: { id: '5', name: '张*华' } },
    global: { plugins: [createPinia(), [urql, client]] },
    attachTo: document.body,
  })
  await flushPromises()
  return w
}

describe('GuardianshipDialog', () => {
  let events: ReturnType<typeof ev>[]
  beforeEach(() => {
    ctx.calls.length = 0
    document.body.innerHTML = ''
    events = [ev('1', 'BIND', 'ELDER', null, '', '2026-11-01T02:00:00Z')]
    ctx.handlers = {
      Guardianships: () => ({ guardianships: [...events] }),
      BindGuardian: (v) => {
        events.push(ev('2', 'UNBIND', 'COMMUNITY', 'HEALTH_OFFICER', v.reason as string, '2026-11-02T02:00:00Z'))
        events.push(ev('3', 'BIND', 'COMMUNITY', 'HEALTH_OFFICER', v.reason as string, '2026-11-02T02:00:00Z'))
        return { bindGuardian: { id: '3' } }
      },
    }
  })

  it('shows every event newest first, who made it, and the binding in force', async () => {
    events.push(ev('2', 'UNBIND', 'CLAIMED', null, '', '2026-11-03T02:00:00Z'))
    const w = await mountDialog()
    expect(ctx.calls[0]).toEqual(['Guardianships', { personId: '5' }])
    const rows = [...document.body.querySelectorAll('[data-testid=guardian-events] tbody tr')].map((r) => r.textContent)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('解除')
    expect(rows[0]).toContain('本人找回')
    expect(rows[1]).toContain('老年人（按证件年龄）')
    expect(rows[1]).toContain('居民本人')
    expect($('[data-testid=guardian-current]')!.textContent).toBe('无')
    expect($('[data-testid=guardian-unbind]')).toBeNull()
    w.unmount()
  }, 30_000)

  it('checks the phone and the reason at their fields, shows the API\'s refusal, and binds with the community\'s basis', async () => {
    const w = await mountDialog()
    expect($('[data-testid=guardian-current]')!.textContent).toContain('138****0001（老年人（按证件年龄））')
    await setField(w, 'guardian-phone', '1380000')
    await click('[data-testid=guardian-bind]')
    expect(ctx.calls.some(([k]) => k === 'BindGuardian')).toBe(false)
    expect(fieldError('[data-testid=guardian-form]', '监护人手机号码')).toBe('请输入正确的 11 位手机号')
    expect(fieldError('[data-testid=guardian-form]', '确认依据')).toBeTruthy()

    const refused = ctx.handlers.BindGuardian!
    ctx.handlers.BindGuardian = () => gqlError('NOT_FOUND', '该手机号尚未登录过健康码平台，请监护人先用该手机号登录一次')
    await setField(w, 'guardian-phone', '13800000002')
    await setField(w, 'guardian-reason', '入户核实，由其女儿监护')
    await click('[data-testid=guardian-bind]')
    expect($('[data-testid=guardian-form] .el-alert')!.textContent).toContain('请监护人先用该手机号登录一次')

    ctx.handlers.BindGuardian = refused
    await click('[data-testid=guardian-bind]')
    expect(ctx.calls.filter(([k]) => k === 'BindGuardian').at(-1)?.[1]).toEqual({ personId: '5', guardianPhone: '13800000002', reason: '入户核实，由其女儿监护' })
    expect(w.emitted('changed')).toHaveLength(1)
    expect($('[data-testid=guardian-current]')!.textContent).toContain('社区确认')
    const first = document.body.querySelector('[data-testid=guardian-events] tbody tr')!.textContent
    expect(first).toContain('卫生健康人员')
    expect(first).toContain('入户核实，由其女儿监护')
    w.unmount()
  }, 30_000)

  it('ends the binding with the reason given', async () => {
    ctx.handlers.UnbindGuardian = (v) => {
      events.push(ev('2', 'UNBIND', 'COMMUNITY', 'ADMIN', v.reason as string, '2026-11-02T02:00:00Z'))
      return { unbindGuardian: { id: '2' } }
    }
    const w = await mountDialog()
    await click('[data-testid=guardian-unbind]')
    const input = $('.el-message-box input') as HTMLInputElement
    input.value = '经核实申领人并非其监护人'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    await click('.el-message-box .el-button--primary')
    await new Promise((r) => setTimeout(r, 300))
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'UnbindGuardian')?.[1]).toEqual({ personId: '5', reason: '经核实申领人并非其监护人' })
    expect($('[data-testid=guardian-current]')!.textContent).toBe('无')
    w.unmount()
  }, 30_000)
})
