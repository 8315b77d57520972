import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import CodeCard from './CodeCard.vue'

describe('CodeCard', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-11-01T02:00:00Z'))
  })
  afterEach(() => vi.useRealTimers())

  const props = { colour: 'YELLOW', maskedName: '李*陕', token: 'eyJhbGciOiJFZERTQSJ9.eyJjIjoiWSJ9.sig', expiresAt: '2026-11-01T02:05:00Z' }

  it('shows the colour, the masked name, a labelled QR and the validity in China time', () => {
    const w = mount(CodeCard, { props })
    expect(w.get('[data-testid=colour-label]').text()).toBe('黄码')
    expect(w.text()).toContain('李*陕')
    const qr = w.get('[data-testid=qr]')
    expect(qr.attributes('role')).toBe('img')
    expect(qr.attributes('aria-label')).toBe('李*陕的黄码二维码')
    expect(qr.find('path').attributes('d')).toMatch(/^M\d+ \d+h1v1h-1z/)
    expect(w.text()).toContain('二维码 10:05 前有效')
    expect(w.get('[data-testid=code-card]').attributes('data-colour')).toBe('YELLOW')
  })

  it('runs a live clock', async () => {
    const w = mount(CodeCard, { props })
    expect(w.get('[data-testid=clock]').text()).toBe('2026-11-01 10:00:00')
    vi.advanceTimersByTime(3_000)
    await w.vm.$nextTick()
    expect(w.get('[data-testid=clock]').text()).toBe('2026-11-01 10:00:03')
  })

  it('offers a refresh when the token could not be renewed', async () => {
    const w = mount(CodeCard, { props: { ...props, stale: true } })
    expect(w.text()).toContain('二维码刷新失败')
    await w.get('button').trigger('click')
    expect(w.emitted('refresh')).toHaveLength(1)
  })
})
