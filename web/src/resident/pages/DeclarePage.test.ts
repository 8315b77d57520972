import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'
import { gqlError } from '@/test/mockClient'
import { idCheckChar } from '@/shared/idcard'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.session', { strict: true })))

import DeclarePage from './DeclarePage.vue'
import { api as ctx, apiClient } from '@/test/mockContext'

async function mountPage() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/declare', component: DeclarePage }, { path: '/', component: { template: '<i/>' } }] })
  await router.push('/declare')
  const client = apiClient({ strict: true })
  const w = mount(DeclarePage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

describe('DeclarePage', () => {
  beforeEach(() => {
    for (const k of Object.keys(ctx.handlers)) delete ctx.handlers[k]
    ctx.calls.length = 0
    ctx.handlers.MyPersons = () => ({ myDependents: [] })
    ctx.handlers.Region = (v) => ({ region: { code: v.code, name: `地区${String(v.code)}`, level: 'COMMUNITY', parentCode: null } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('checks the ID check digit before sending anything', async () => {
    const { w } = await mountPage()
    await w.get('[data-testid=name] input').setValue('李四')
    await w.get('[data-testid=docNumber] input').setValue('610113199001011010')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.text()).toContain('身份证号码有误，请核对（含末位校验码）')
    expect(ctx.calls.map(([k]) => k)).not.toContain('SubmitDeclaration')
  })

  it("marks the field the server's error names", async () => {
    ctx.handlers.SubmitDeclaration = () => gqlError('INVALID', '详细地址：不能为空，且不超过 200 个字')
    const { w } = await mountPage()
    const id = '61011319900101101'
    await w.get('[data-testid=name] input').setValue('李四')
    await w.get('[data-testid=docNumber] input').setValue(id + idCheckChar(id))
    await w.get('[data-testid=decl-phone] input').setValue('13800138001')
    await w.get('[data-testid=address] input').setValue('x'.repeat(3))
    // The residence would come from the picker; set it as the picker does.
    ;(w.vm as unknown as { $: { setupState: { f: { residence: string } } } }).$.setupState.f.residence = '610113001001'
    await w.get('[data-testid=promise] .van-checkbox__icon').trigger('click')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(ctx.calls.map(([k]) => k)).toContain('SubmitDeclaration')
    const address = w.get('[data-testid=address]')
    expect(address.text()).toContain('详细地址：不能为空，且不超过 200 个字')
  })
})
