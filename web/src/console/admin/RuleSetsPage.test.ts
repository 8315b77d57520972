import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import urql from '@urql/vue'
import { mockClient, gqlError, type Handlers } from '@/test/mockClient'

vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import RuleSetsPage from './RuleSetsPage.vue'
import { api as ctx } from '@/test/mockContext'

const body = JSON.stringify({
  version: 'v1', name: '附件1', window: '14d',
  clauses: [
    { id: 'R1', colour: 'RED', citation: '附件1 一(一)', kind: 'stay_risk', params: { levels: ['HIGH', 'ABROAD'] } },
    { id: 'Y2', colour: 'YELLOW', citation: '附件1 一(二)', kind: 'abnormal_health', params: { threshold: 37.3, symptoms: ['fever'], normalDays: 14 } },
  ],
})
const person = (id: string, name: string) => ({ subject: `staff:${id}`, name, role: '规则管理员', regionName: '陕西省' })
const row = (version: string, status: string, submitter: ReturnType<typeof person> | null, b = body) => ({
  version, name: '附件1', status, body: b.replace('"v1"', JSON.stringify(version)), createdAt: '2026-12-01T00:00:00Z', publishedAt: null, submitter, approver: null,
})

async function mountPage(path = '/admin/rule-sets') {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/rule-sets', name: 'ruleSets', component: RuleSetsPage }] })
  await router.push(path)
  const { client } = mockClient({} as Handlers)
  const w = mount(RuleSetsPage, { global: { plugins: [createPinia(), router, [urql, client]] }, attachTo: document.body })
  await flushPromises()
  return w
}

describe('RuleSetsPage', () => {
  beforeEach(() => {
    ctx.calls.length = 0
    ctx.handlers = {
      ConsoleMe: () => ({ me: { kind: 'STAFF', id: '1', name: '甲', staff: { id: '1', username: 'rule_admin', displayName: '甲' }, grants: [{ id: 'g1', role: 'RULE_ADMIN', roleLabel: '规则管理员', regionCode: '61', region: { code: '61', name: '陕西省', level: 1 } }] } }),
      RuleSets: () => ({ ruleSets: [row('v1', 'PUBLISHED', null)] }),
      PreviewRuleSet: () => ({ previewRuleSet: { version: 'v2', evaluated: 10, transitions: [{ from: 'RED', to: 'GREEN', count: 4 }, { from: 'GREEN', to: 'GREEN', count: 6 }], sample: [] } }),
      PublishRuleSet: (v) => ({ publishRuleSet: row('v2', 'DRAFT', person('1', '甲'), String(v.body)) }),
    }
  })

  it('submits only the text just previewed, and shows the diff and the impact', async () => {
    const w = await mountPage()
    await w.get('[data-testid=ruleset-new]').trigger('click')
    await flushPromises()
    const publish = () => w.get('[data-testid=ruleset-publish]')
    expect(publish().attributes('disabled')).toBeDefined()
    const area = w.get('textarea[data-testid=ruleset-body]')
    const draft = JSON.parse((area.element as HTMLTextAreaElement).value)
    expect(draft.version).toBe('')
    draft.version = 'v2'
    draft.window = '7d'
    draft.clauses[1].params.threshold = 37.5
    await area.setValue(JSON.stringify(draft, null, 2))
    expect(w.get('[data-testid=ruleset-diff]').text()).toContain('37.3')
    expect(w.get('[data-testid=diff-Y2]').attributes('data-status')).toBe('changed')
    expect(w.find('[data-testid=diff-R1]').exists()).toBe(false) // unchanged clauses are not listed
    expect(w.find('[data-testid=diff-head-window]').text()).toContain('7d')

    await w.get('[data-testid=ruleset-preview]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=ruleset-changed]').text()).toContain('4')
    expect(publish().attributes('disabled')).toBeUndefined()
    // An edit after the preview needs a new one.
    draft.window = '10d'
    await area.setValue(JSON.stringify(draft, null, 2))
    expect(publish().attributes('disabled')).toBeDefined()
    await w.get('[data-testid=ruleset-preview]').trigger('click')
    await flushPromises()
    await publish().trigger('click')
    await flushPromises()
    expect(JSON.parse(String(ctx.calls.find(([k]) => k === 'PublishRuleSet')?.[1].body)).window).toBe('10d')
    w.unmount()
  }, 30_000)

  it('shows the server\'s validation errors at the lines they name', async () => {
    ctx.handlers.PreviewRuleSet = () => gqlError('INVALID', '规则集无效：规则集版本号不能为空；规则Y2的体温阈值threshold为45，应在35.0至42.0之间')
    const w = await mountPage()
    await w.get('[data-testid=ruleset-new]').trigger('click')
    await flushPromises()
    await w.get('[data-testid=ruleset-preview]').trigger('click')
    await flushPromises()
    const text = (w.get('textarea[data-testid=ruleset-body]').element as HTMLTextAreaElement).value.split('\n')
    const items = w.findAll('[data-testid=ruleset-problems] li')
    expect(items.map((li) => li.attributes('data-line'))).toEqual([
      String(text.findIndex((l) => l.includes('"version"')) + 1),
      String(text.findIndex((l) => l.includes('"Y2"')) + 1),
    ])
    expect(items[1]!.text()).toContain('体温阈值')
    expect(w.get('[data-testid=ruleset-publish]').attributes('disabled')).toBeDefined()
    w.unmount()
  }, 30_000)

  it('lets another rule admin approve a submitted version, not its submitter', async () => {
    ctx.handlers.RuleSets = () => ({ ruleSets: [row('v2', 'DRAFT', person('1', '甲')), row('v3', 'DRAFT', person('2', '乙')), row('v1', 'PUBLISHED', null)] })
    const w = await mountPage('/admin/rule-sets?version=v2')
    expect(w.get('[data-testid=ruleset-approve-v2]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid=ruleset-own]').text()).toContain('另一名规则管理员')
    expect(w.get('[data-testid=ruleset-approve-v3]').attributes('disabled')).toBeUndefined()
    expect(w.get('[data-testid=ruleset-detail]').text()).toContain('与现行规则相同')
    w.unmount()
  }, 30_000)
})
