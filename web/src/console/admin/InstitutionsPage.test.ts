import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, type Handlers } from '@/test/mockClient'
import { setField } from '@/test/fields'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import InstitutionsPage from './InstitutionsPage.vue'
import { useAccount } from '../account'
import { api as ctx } from '@/test/mockContext'

const inst = (id: string, name: string, kind: string, status = 'ACTIVE') => ({
  id, name, kind, status, creditCode: `91610113MA6U0000${id}X`, regionCode: '610113', contactName: '王经理', contactPhone: '139****5678',
  suspendReason: '', reviewReason: '', createdAt: '2026-12-01T02:00:00Z',
})

async function mountPage() {
  const pinia = createPinia()
  setActivePinia(pinia)
  useAccount().me = {
    kind: 'STAFF', id: '1', name: '雁塔管理员', staff: { id: '1', username: 'yanta_admin', displayName: '雁塔管理员', phone: '', phoneVerified: false },
    grants: [{ id: '1', role: 'ADMIN', roleLabel: '六级管理员', regionCode: '610113', region: { code: '610113', name: '雁塔区', level: 'COUNTY' } }],
  } as never
  const { client } = mockClient({} as Handlers)
  const w = mount(InstitutionsPage, { global: { plugins: [pinia, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

const names = () => [...document.querySelectorAll('[data-testid=institutions-table] .el-table__body tr.el-table__row')].map((r) => r.querySelectorAll('td')[1]?.textContent?.trim())

describe('InstitutionsPage', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    ctx.calls.length = 0
    ctx.handlers = {
      Institutions: () => ({ institutions: [inst('1', '大雁塔商场', 'VENUE'), inst('2', '雁塔区人民医院', 'HOSPITAL'), inst('3', '曲江诊所', 'CLINIC', 'PENDING')] }),
      Region: (v) => ({ region: { code: v.code, name: '雁塔区', level: 'COUNTY' } }),
    }
  })

  it('shows each institution kind in Chinese and filters by kind', async () => {
    const w = await mountPage()
    expect(names()).toEqual(['大雁塔商场', '雁塔区人民医院', '曲江诊所'])
    const text = w.get('[data-testid=institutions-table]').text()
    expect(text).toContain('机构类型')
    for (const label of ['查验场所单位', '医院', '诊所']) expect(text).toContain(label)

    await setField(w, 'institution-kind-filter', 'HOSPITAL')
    expect(names()).toEqual(['雁塔区人民医院'])
    await setField(w, 'institution-kind-filter', 'CLINIC')
    expect(names()).toEqual(['曲江诊所'])
    await setField(w, 'institution-kind-filter', '')
    expect(names()).toHaveLength(3)
    w.unmount()
  }, 30_000)
})
