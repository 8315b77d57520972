import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, gqlError, type Handlers } from '@/test/mockClient'
import { $, click, fieldError, setField } from '@/test/fields'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import PhoneVerify from './PhoneVerify.vue'
import { useAccount } from '../account'
import { api as ctx } from '@/test/mockContext'

const me = (phoneVerified: boolean) => ({
  me: {
    kind: 'STAFF', id: '40', name: '赵承办', staff: { id: '40', username: 'zhao', displayName: '赵承办', phone: phoneVerified ? '199****0040' : '', phoneVerified },
    grants: [{ id: '41', role: 'HANDLER', roleLabel: '承办人员', regionCode: '610113', region: { code: '610113', name: '雁塔区', level: 'COUNTY' } }],
  },
})

async function mountBanner(verified: boolean) {
  const pinia = createPinia()
  setActivePinia(pinia)
  ctx.handlers.ConsoleMe = () => me(verified)
  await useAccount().load(true)
  const { client } = mockClient({} as Handlers)
  const w = mount(PhoneVerify, { global: { plugins: [pinia, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('PhoneVerify', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    ctx.handlers = {}
    document.body.innerHTML = ''
  })

  it('shows nothing for an account whose phone is verified', async () => {
    const w = await mountBanner(true)
    expect($('[data-testid=phone-banner]')).toBeNull()
    w.unmount()
  })

  it('sends a code, checks it, and hides the banner once the account says verified', async () => {
    const w = await mountBanner(false)
    expect($('[data-testid=phone-banner]')!.textContent).toContain('尚未验证手机号码')
    await click('[data-testid=phone-verify]')

    // A bad phone is refused at its field before any call.
    await setField(w, 'verify-phone', '1990')
    await click('[data-testid=verify-send]')
    expect(fieldError('[data-testid=phone-form]', '手机号码')).toBe('请输入正确的 11 位手机号')
    expect(ctx.calls.some(([k]) => k === 'RequestSmsCode')).toBe(false)

    ctx.handlers.RequestSmsCode = () => ({ requestSmsCode: true })
    await setField(w, 'verify-phone', '19901000040')
    await click('[data-testid=verify-send]')
    expect(ctx.calls.find(([k]) => k === 'RequestSmsCode')?.[1]).toEqual({ phone: '19901000040' })
    expect($('[data-testid=verify-send]')!.textContent).toContain('秒后重新获取')

    // A wrong code: the API's answer under the code field.
    ctx.handlers.VerifyStaffPhone = () => gqlError('UNAUTHENTICATED', '验证码错误或已过期')
    await setField(w, 'verify-code', '123456')
    await click('[data-testid=verify-submit]')
    expect(fieldError('[data-testid=phone-form]', '短信验证码')).toBe('验证码错误或已过期')

    ctx.handlers.VerifyStaffPhone = () => ({ verifyStaffPhone: { id: '40', phone: '199****0040', phoneVerified: true } })
    ctx.handlers.ConsoleMe = () => me(true)
    await setField(w, 'verify-code', '654321')
    await click('[data-testid=verify-submit]')
    expect(ctx.calls.filter(([k]) => k === 'VerifyStaffPhone').at(-1)?.[1]).toEqual({ phone: '19901000040', code: '654321' })
    expect($('[data-testid=phone-banner]')).toBeNull()
    w.unmount()
  }, 30_000)
})
