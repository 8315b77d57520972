import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { ElRadioGroup } from 'element-plus'
import { gqlError } from '@/test/mockClient'
import { $, click, fieldError, setField } from '@/test/fields'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import RegisterInstitutionPage from './RegisterInstitutionPage.vue'
import { api as ctx } from '@/test/mockContext'

async function mountPage() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/register', name: 'registerInstitution', component: RegisterInstitutionPage },
      { path: '/login', name: 'login', component: { template: '<div />' } },
    ],
  })
  await router.push('/register')
  const w = mount(RegisterInstitutionPage, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return w
}

async function fill(w: Awaited<ReturnType<typeof mountPage>>) {
  await setField(w, 'reg-name', '雁塔区人民医院')
  await setField(w, 'reg-credit-code', '12610113ma6u00000x')
  await setField(w, 'reg-region', '610113')
  await setField(w, 'reg-contact-name', '王主任')
  await setField(w, 'reg-contact-phone', '13912345678')
  await setField(w, 'reg-admin-username', 'ytyy_admin')
  await setField(w, 'reg-admin-name', '王主任')
  await setField(w, 'reg-admin-password', 'admin-pass-2020')
}

describe('RegisterInstitutionPage', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    ctx.calls.length = 0
    ctx.handlers = {
      RegisterInstitution: (v) => {
        const input = v.input as Record<string, string>
        return { registerInstitution: { institution: { id: '9', name: input.name, status: 'PENDING', kind: input.kind }, admin: { id: '31', username: input.adminUsername } } }
      },
    }
  })

  it('offers the four kinds in Chinese (venue by default) with the machine-client hint, and sends the chosen kind', async () => {
    const w = await mountPage()
    const kinds = [...document.querySelectorAll('[data-testid=reg-kind] .el-radio')].map((r) => r.textContent?.trim())
    expect(kinds).toEqual(['查验场所单位', '医院', '疾控中心', '诊所'])
    expect(w.findComponent(ElRadioGroup).props('modelValue')).toBe('VENUE')
    expect(w.get('[data-testid=reg-kind-hint]').text()).toContain('医疗机构接口密钥')

    await fill(w)
    w.findComponent(ElRadioGroup).vm.$emit('update:modelValue', 'HOSPITAL')
    await flushPromises()
    await click('[data-testid=reg-submit]')
    const sent = ctx.calls.find(([k]) => k === 'RegisterInstitution')?.[1].input
    expect(sent).toMatchObject({ name: '雁塔区人民医院', creditCode: '12610113MA6U00000X', kind: 'HOSPITAL', region: '610113', adminUsername: 'ytyy_admin' })
    expect($('[data-testid=register-done]')?.textContent).toContain('ytyy_admin')
    w.unmount()
  }, 30_000)

  it('shows the server refusal at its field', async () => {
    ctx.handlers.RegisterInstitution = () => gqlError('CONFLICT', '统一社会信用代码 12610113MA6U00000X 已注册，请由本机构管理员登录')
    const w = await mountPage()
    await fill(w)
    await click('[data-testid=reg-submit]')
    expect(fieldError('[data-testid=register-institution]', '统一社会信用代码')).toContain('已注册')
    expect($('[data-testid=register-done]')).toBeNull()
    w.unmount()
  }, 30_000)
})
