import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { ElCascader, ElRadioGroup } from 'element-plus'
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
  w.findComponent(ElCascader).vm.$emit('update:modelValue', '610113')
  await flushPromises()
  await setField(w, 'reg-contact-name', '王主任')
  await setField(w, 'reg-contact-phone', '13912345678')
  await setField(w, 'reg-admin-username', 'ytyy_admin')
  await setField(w, 'reg-admin-name', '王主任')
  await setField(w, 'reg-admin-password', 'admin-pass-2020')
}

/** The public region names by parent ('' for the cities). */
const regionsUnder: Record<string, { code: string; name: string; level: string }[]> = {
  '': [{ code: '6101', name: '西安市', level: 'CITY' }, { code: '6102', name: '铜川市', level: 'CITY' }],
  '6101': [{ code: '610102', name: '新城区', level: 'COUNTY' }, { code: '610113', name: '雁塔区', level: 'COUNTY' }],
  '610113': [{ code: '610113001', name: '小寨路街道', level: 'STREET' }],
  '610113001': [{ code: '610113001001', name: '小寨路社区', level: 'COMMUNITY' }],
}

/** The menu items of the cascader's open panel, level by level. */
function menus(): string[][] {
  return [...document.querySelectorAll('.reg-region-popper .el-cascader-menu')].map((m) =>
    [...m.querySelectorAll('.el-cascader-node__label')].map((n) => n.textContent?.trim() ?? ''),
  )
}

/** The cascader node labelled label in the open panel. */
function node(label: string): HTMLElement {
  const n = [...document.querySelectorAll<HTMLElement>('.reg-region-popper .el-cascader-node')].find(
    (x) => x.querySelector('.el-cascader-node__label')?.textContent?.trim() === label,
  )
  if (!n) throw new Error(`no cascader node ${label}: ${JSON.stringify(menus())}`)
  return n
}

describe('RegisterInstitutionPage', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    ctx.calls.length = 0
    ctx.handlers = {
      PublicRegions: (v) => ({ publicRegions: regionsUnder[(v.parent as string | null) ?? ''] ?? [] }),
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

  it('picks the region in a cascader of the public region names, a city only leading on', async () => {
    const w = await mountPage()
    await fill(w)
    w.findComponent(ElCascader).vm.$emit('update:modelValue', null) // cleared: picked below
    await flushPromises()
    expect(document.querySelector('[data-testid=reg-region] input')?.getAttribute('placeholder')).toContain('区县')
    ;(document.querySelector('[data-testid=reg-region] .el-input__wrapper') as HTMLElement).click()
    await flushPromises()
    expect(menus()[0]).toEqual(['西安市', '铜川市'])
    expect(ctx.calls.filter(([k]) => k === 'PublicRegions').map(([, v]) => v.parent ?? null)).toEqual([null])
    // A city cannot be chosen (its radio is disabled); opening it loads its counties.
    expect(node('西安市').querySelector<HTMLInputElement>('input[type=radio]')?.disabled).toBe(true)
    node('西安市').click()
    await flushPromises()
    expect(menus()[1]).toEqual(['新城区', '雁塔区'])
    expect(node('雁塔区').querySelector<HTMLInputElement>('input[type=radio]')?.disabled).toBe(false)
    // Down to the community, which is a leaf.
    node('雁塔区').click()
    await flushPromises()
    node('小寨路街道').click()
    await flushPromises()
    expect(menus()[3]).toEqual(['小寨路社区'])
    expect(ctx.calls.filter(([k]) => k === 'PublicRegions').map(([, v]) => v.parent ?? null)).toEqual([null, '6101', '610113', '610113001'])
    // Choosing the street by its radio sends its code.
    node('小寨路街道').querySelector<HTMLElement>('.el-radio')!.click()
    await flushPromises()
    expect(w.findComponent(ElCascader).props('modelValue')).toBe('610113001')
    await click('[data-testid=reg-submit]')
    expect(ctx.calls.find(([k]) => k === 'RegisterInstitution')?.[1].input).toMatchObject({ region: '610113001' })
    w.unmount()
  }, 30_000)

  it('says so at the field when the region names cannot be loaded', async () => {
    ctx.handlers.PublicRegions = () => gqlError('RATE_LIMITED', '请求过于频繁')
    const w = await mountPage()
    ;(document.querySelector('[data-testid=reg-region] .el-input__wrapper') as HTMLElement).click()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 150))
    expect(fieldError('[data-testid=register-institution]', '所在地区')).toBe('地区列表加载失败，请稍后重试')
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
