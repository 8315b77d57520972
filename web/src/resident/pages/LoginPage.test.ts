import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'
import { gqlError, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.session', { strict: true })))

import LoginPage from './LoginPage.vue'
import { session } from '../context'
import { api as ctx, apiClient } from '@/test/mockContext'

function setup(handlers: Handlers) {
  Object.assign(ctx.handlers, handlers)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginPage },
      { path: '/', component: { template: '<div>home</div>' } },
    ],
  })
  const client = apiClient({ strict: true })
  return { router, mountIt: async () => {
    await router.push('/login')
    return mount(LoginPage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  } }
}

describe('LoginPage', () => {
  beforeEach(() => {
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
    localStorage.clear()
  })
  afterEach(() => {
    session.end('logout')
    document.body.innerHTML = ''
  })

  it('checks the phone before asking for a code', async () => {
    const { mountIt } = setup({})
    const w = await mountIt()
    await w.get('[data-testid=phone] input').setValue('1380013')
    await w.get('[data-testid=send-code]').trigger('click')
    expect(w.text()).toContain('请输入正确的 11 位手机号')
  })

  it('counts down after sending, shows the dev code, and logs in', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const { mountIt, router } = setup({
      RequestSmsCode: () => ({ requestSmsCode: true }),
      DevMode: () => ({ __type: { fields: [{ name: 'me' }, { name: 'devMessages' }] } }),
      DevMessages: () => ({ devMessages: [{ id: '1', body: '【陕西健康码】您的登录验证码为 123456，5 分钟内有效。', sentAt: '2026-11-01T02:00:00Z' }] }),
      LoginResident: (v) =>
        v.code === '123456'
          ? { loginResident: { token: 'hcr_x', expiresAt: new Date(Date.now() + 3600_000).toISOString(), me: { kind: 'RESIDENT', id: '1', name: '138****0001' } } }
          : gqlError('UNAUTHENTICATED', '验证码错误或已过期'),
    })
    const w = await mountIt()
    await w.get('[data-testid=phone] input').setValue('13800138001')
    await w.get('[data-testid=send-code]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=send-code]').text()).toBe('60 秒后重新获取')
    expect(w.get('[data-testid=send-code]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid=dev-code]').text()).toContain('123456')
    vi.advanceTimersByTime(2_000)
    await flushPromises()
    expect(w.get('[data-testid=send-code]').text()).toBe('58 秒后重新获取')

    await w.get('[data-testid=code] input').setValue('000000')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.text()).toContain('验证码错误或已过期')

    await w.get('[data-testid=code] input').setValue('123456')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(session.token()).toBe('hcr_x')
    expect(router.currentRoute.value.path).toBe('/')
    vi.useRealTimers()
  })

  it('asks a production server nothing it would refuse: no devMessages without dev mode', async () => {
    let asked = false
    const { mountIt } = setup({
      RequestSmsCode: () => ({ requestSmsCode: true }),
      DevMode: () => gqlError('FORBIDDEN', '未开放内省查询'),
      DevMessages: () => {
        asked = true
        return { devMessages: [] }
      },
    })
    const w = await mountIt()
    await w.get('[data-testid=phone] input').setValue('13800138003')
    await w.get('[data-testid=send-code]').trigger('click')
    await flushPromises()
    expect(asked).toBe(false)
    expect(w.find('[data-testid=dev-code]').exists()).toBe(false)
  })

  it("shows the platform's rate-limit message and waits", async () => {
    const { mountIt } = setup({ RequestSmsCode: () => gqlError('RATE_LIMITED', '发送过于频繁，请稍后再试') })
    const w = await mountIt()
    await w.get('[data-testid=phone] input').setValue('13800138002')
    await w.get('[data-testid=send-code]').trigger('click')
    await flushPromises()
    expect(w.get('[role=alert]').text()).toBe('发送过于频繁，请稍后再试')
    expect(w.get('[data-testid=send-code]').attributes('disabled')).toBeDefined()
  })
})
