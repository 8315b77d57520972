// The result screen: a valid code shows its colour and masked name; the
// keypad makes three digits a reading; 37.3 ℃ is normal and recorded at
// once, above it the fever outcome with what to do next; a failed code shows
// the reason.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ResultOverlay from './ResultOverlay.vue'
import type { CheckResult } from '../check'

const ok: CheckResult = {
  ok: true, reason: '', message: '', flagged: false, ms: 1.2, issuerName: '陕西省',
  claims: { iss: '61', cid: 'hc_1', col: 'GREEN', nm: '张*三', knd: 'ELECTRONIC', iat: 1585648800, exp: 1585649100, jti: 'j' },
}

async function type(w: ReturnType<typeof mount>, digits: string) {
  for (const d of digits) await w.get(`[data-testid="key-${d}"]`).trigger('click')
}

describe('ResultOverlay', () => {
  it('records 37.3 ℃ as normal and closes', async () => {
    const w = mount(ResultOverlay, { props: { result: ok } })
    expect(w.get('[data-testid="result"]').attributes('data-colour')).toBe('GREEN')
    expect(w.get('[data-testid="result-name"]').text()).toBe('张*三')
    await type(w, '373')
    expect(w.get('[data-testid="temperature"]').text()).toContain('37.3')
    await w.get('[data-testid="record"]').trigger('click')
    expect(w.emitted('record')).toEqual([[37.3]])
    expect(w.emitted('close')).toHaveLength(1)
    expect(w.find('[data-testid="fever"]').exists()).toBe(false)
  })

  it('shows the fever outcome above 37.3 ℃', async () => {
    const w = mount(ResultOverlay, { props: { result: ok } })
    await type(w, '374')
    await w.get('[data-testid="record"]').trigger('click')
    expect(w.emitted('record')).toEqual([[37.4]])
    expect(w.emitted('close')).toBeUndefined()
    expect(w.get('[data-testid="fever"]').text()).toContain('体温异常（发热）')
    expect(w.get('[data-testid="fever-reading"]').text()).toBe('37.4 ℃')
    expect(w.get('[data-testid="fever"]').text()).toContain('发热门诊')
    await w.get('[data-testid="fever-done"]').trigger('click')
    expect(w.emitted('close')).toHaveLength(1)
  })

  it('refuses a reading out of range and records without one', async () => {
    const w = mount(ResultOverlay, { props: { result: ok } })
    await type(w, '295')
    await w.get('[data-testid="record"]').trigger('click')
    expect(w.text()).toContain('体温应在 35.0 至 42.0 ℃ 之间')
    expect(w.emitted('record')).toBeUndefined()
    await w.get('[data-testid="key-C"]').trigger('click')
    await w.get('[data-testid="no-temperature"]').trigger('click')
    expect(w.emitted('record')).toEqual([[null]])
  })

  it('shows why a code fails', () => {
    const w = mount(ResultOverlay, { props: { result: { ...ok, ok: false, reason: 'REVOKED', message: '健康码已作废，请出示最新的健康码', claims: null } } })
    expect(w.get('[data-testid="result"]').attributes('data-colour')).toBe('INVALID')
    expect(w.get('[data-testid="result-message"]').text()).toBe('健康码已作废，请出示最新的健康码')
    expect(w.get('[data-testid="record"]').text()).toBe('登记（未通过）')
  })
})
