import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import ApiKeysPage from './ApiKeysPage.vue'
import { api as ctx } from '@/test/mockContext'

const by = (name: string) => ({ subject: 'staff:1', name })
const keyRow = (id: string, over: Record<string, unknown>) => ({
  id, name: `密钥${id}`, kind: 'MEDICAL_CLIENT', region: '610113', regionName: '西安市雁塔区', institutionId: '3',
  institutionName: '雁塔区人民医院', createdBy: by('张管理'), createdAt: '2026-12-01T02:00:00Z', pending: false, approvedBy: null,
  approvedAt: null, lastUsedAt: null, revokedAt: null, revokedBy: null, ...over,
})

async function mountPage() {
  const { client } = mockClient({} as Handlers)
  const w = mount(ApiKeysPage, { global: { plugins: [createPinia(), [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('ApiKeysPage', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    document.body.innerHTML = ''
    ctx.handlers = {
      ApiKeys: () => ({
        apiKeys: [
          keyRow('7', { pending: true }),
          keyRow('5', { kind: 'SUBSYSTEM', region: '6101', regionName: '西安市', institutionId: null, institutionName: '', approvedBy: null }),
          keyRow('4', { revokedAt: '2026-12-02T02:00:00Z', revokedBy: by('李管理') }),
        ],
      }),
      MedicalInstitutions: () => ({
        institutions: [
          { id: '3', name: '雁塔区人民医院', kind: 'HOSPITAL', status: 'ACTIVE', regionCode: '610113' },
          { id: '8', name: '大雁塔商场', kind: 'VENUE', status: 'ACTIVE', regionCode: '610113' },
        ],
      }),
      CreateMachineClientKey: () => ({ createMachineClientKey: { id: '9', key: 'hck_9_secretsecret' } }),
      ApproveApiKey: (v) => ({ approveApiKey: { id: v.id, pending: false, approvedAt: '2026-12-03T00:00:00Z' } }),
      RevokeApiKey: (v) => ({ revokeApiKey: { id: v.id, revokedAt: '2026-12-03T00:00:00Z' } }),
    }
  })

  it('lists keys with their state and offers approval only for pending ones', async () => {
    const w = await mountPage()
    expect(w.get('[data-testid=api-key-status-7]').text()).toBe('待审核')
    expect(w.get('[data-testid=api-key-status-5]').text()).toBe('有效')
    expect(w.get('[data-testid=api-key-status-4]').text()).toBe('已吊销')
    expect(w.text()).toContain('医疗机构接口')
    expect(w.text()).toContain('市级子系统')
    expect(w.find('[data-testid=api-key-approve-7]').exists()).toBe(true)
    expect(w.find('[data-testid=api-key-approve-5]').exists()).toBe(false)
    expect(w.find('[data-testid=api-key-revoke-4]').exists()).toBe(false)

    await w.get('[data-testid=api-key-approve-7]').trigger('click')
    await flushPromises()
    const ok = [...document.querySelectorAll<HTMLButtonElement>('.el-message-box button')].find((b) => b.textContent?.includes('确认'))
    ok!.click()
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'ApproveApiKey')?.[1]).toMatchObject({ id: '7' })
    w.unmount()
  }, 30_000)

  it('creates a machine client key for a medical institution and shows the secret once with a warning', async () => {
    const w = await mountPage()
    await w.get('[data-testid=api-key-create]').trigger('click')
    await flushPromises()
    // Only ACTIVE medical institutions are offered.
    const options = w.findAllComponents({ name: 'ElOption' })
    expect(options.map((o) => o.props('label'))).toEqual(['雁塔区人民医院（610113）'])
    w.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', '3')
    const name = w.findAllComponents({ name: 'ElInput' }).find((i) => i.attributes('data-testid') === 'api-key-name' || i.find('[data-testid=api-key-name]').exists())!
    name.vm.$emit('update:modelValue', '雁塔医院 LIS 接口')
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-testid=api-key-submit]')!.click()
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'CreateMachineClientKey')?.[1]).toMatchObject({ institutionId: '3', name: '雁塔医院 LIS 接口' })
    const secret = document.querySelector<HTMLInputElement>('input[data-testid=api-key-secret], [data-testid=api-key-secret] input')!
    expect(secret.value).toBe('hck_9_secretsecret')
    expect(document.body.textContent).toContain('密钥只显示这一次')
    expect(document.body.textContent).toContain('须由上级地区的另一名管理员审核')

    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    document.querySelector<HTMLButtonElement>('[data-testid=api-key-copy]')!.click()
    await flushPromises()
    expect(writeText).toHaveBeenCalledWith('hck_9_secretsecret')
    w.unmount()
  }, 30_000)
})
