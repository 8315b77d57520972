import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import { mockClient, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import AreaRiskPage from './AreaRiskPage.vue'
import RegionSelect from '../components/RegionSelect.vue'
import { api as ctx } from '@/test/mockContext'

async function mountPage() {
  const { client } = mockClient({} as Handlers)
  const w = mount(AreaRiskPage, { global: { plugins: [createPinia(), [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('AreaRiskPage', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    ctx.handlers = {
      Regions: () => ({ regions: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }),
      AreaRiskList: () => ({ areaRisks: [] }),
      PreviewAreaRisk: (v) => ({
        previewAreaRisk: { regionCode: v.region, level: v.level, evaluated: 5, changed: 3, transitions: [{ from: 'GREEN', to: 'RED', count: 3 }, { from: 'YELLOW', to: 'YELLOW', count: 2 }] },
      }),
      SetAreaRisk: (v) => ({ setAreaRisk: { id: '9', regionCode: v.region, level: v.level, from: '2026-12-01T00:00:00Z', pending: false } }),
    }
  })

  it('offers saving only for the region and level just previewed, and shows the impact', async () => {
    const w = await mountPage()
    const save = () => w.get('[data-testid=risk-save]')
    expect(save().attributes('disabled')).toBeDefined()
    w.findComponent(RegionSelect).vm.$emit('update:modelValue', '610113004001')
    await flushPromises()
    expect(save().attributes('disabled')).toBeDefined()

    await w.get('[data-testid=risk-preview]').trigger('click')
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'PreviewAreaRisk')?.[1]).toMatchObject({ region: '610113004001', level: 'HIGH' })
    expect(w.get('[data-testid=risk-impact]').text()).toContain('3')
    expect(save().attributes('disabled')).toBeUndefined()

    // Another region: the preview no longer applies.
    w.findComponent(RegionSelect).vm.$emit('update:modelValue', '610113004002')
    await flushPromises()
    expect(w.find('[data-testid=risk-impact]').exists()).toBe(false)
    expect(save().attributes('disabled')).toBeDefined()

    await w.get('[data-testid=risk-preview]').trigger('click')
    await flushPromises()
    await save().trigger('click')
    await flushPromises()
    expect(ctx.calls.find(([k]) => k === 'SetAreaRisk')?.[1]).toMatchObject({ region: '610113004002', level: 'HIGH' })
    expect(w.find('[data-testid=risk-pending]').exists()).toBe(false)
    w.unmount()
  }, 30_000)

  it('lists the designations in force by region name, another province\'s with its ancestors', async () => {
    ctx.handlers.AreaRiskList = () => ({
      areaRisks: [
        { id: '1', regionCode: '420106', regionName: '湖北省武汉市武昌区', level: 'MEDIUM', from: '2026-11-20T00:00:00Z', reason: '武昌区中风险', actor: 'staff:1' },
        { id: '2', regionCode: '610113', regionName: '雁塔区', level: 'HIGH', from: '2026-11-21T00:00:00Z', reason: '聚集性疫情', actor: 'staff:1',
          setBy: { name: '雁塔区卫健人员', role: '卫生健康人员' } },
      ],
    })
    const w = await mountPage()
    const rows = w.findAll('[data-testid=risk-table] tbody tr')
    const cells = rows.map((r) => r.find('td').text())
    expect(cells).toEqual(['湖北省武汉市武昌区420106', '雁塔区610113'])
    // Who set it: the officer's name and role; the stored subject when the API names nobody.
    const setBy = rows.map((r) => r.findAll('td')[4]!.text())
    expect(setBy).toEqual(['staff:1', '雁塔区卫健人员卫生健康人员'])
    w.unmount()
  }, 30_000)

  it('says on the page that a designation waits for a second health officer', async () => {
    ctx.handlers.SetAreaRisk = (v) => ({ setAreaRisk: { id: '9', regionCode: v.region, level: v.level, from: '2026-12-01T00:00:00Z', pending: true } })
    const w = await mountPage()
    w.findComponent(RegionSelect).vm.$emit('update:modelValue', '610113004001')
    await flushPromises()
    await w.get('[data-testid=risk-preview]').trigger('click')
    await flushPromises()
    await w.get('[data-testid=risk-save]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=risk-pending]').text()).toContain('须另一名卫生健康人员审核同意后生效')
    w.unmount()
  }, 30_000)
})
