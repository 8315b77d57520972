import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSession } from './session'

const at = (ms: number) => new Date(ms).toISOString()

describe('session', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-11-01T02:00:00Z'))
    localStorage.clear()
    sessionStorage.clear()
  })
  afterEach(() => vi.useRealTimers())

  it('keeps the token in memory and in the storage chosen, and restores it', () => {
    const s = createSession('k')
    s.start({ token: 'hcr_a', expiresAt: at(Date.now() + 3600_000), kind: 'RESIDENT', name: '138****0001' }, true)
    expect(s.token()).toBe('hcr_a')
    expect(localStorage.getItem('k')).toContain('hcr_a')
    expect(sessionStorage.getItem('k')).toBeNull()
    expect(createSession('k').token()).toBe('hcr_a')

    s.start({ token: 'hcr_b', expiresAt: at(Date.now() + 3600_000), kind: 'RESIDENT', name: 'x' }, false)
    expect(localStorage.getItem('k')).toBeNull()
    expect(sessionStorage.getItem('k')).toContain('hcr_b')
  })

  it('ends at expiry and tells its listeners why', () => {
    const s = createSession('k')
    const ended: string[] = []
    s.onEnd((r) => ended.push(r))
    s.start({ token: 'hcr_a', expiresAt: at(Date.now() + 60_000), kind: 'RESIDENT', name: 'x' }, true)
    vi.advanceTimersByTime(59_000)
    expect(s.active()).toBe(true)
    vi.advanceTimersByTime(2_000)
    expect(s.active()).toBe(false)
    expect(ended).toEqual(['expired'])
    expect(localStorage.getItem('k')).toBeNull()
  })

  it('drops an expired or corrupt stored session', () => {
    localStorage.setItem('k', JSON.stringify({ token: 'old', expiresAt: at(Date.now() - 1), kind: 'RESIDENT', name: 'x' }))
    expect(createSession('k').token()).toBeNull()
    expect(localStorage.getItem('k')).toBeNull()
    sessionStorage.setItem('k', '{not json')
    expect(createSession('k').token()).toBeNull()
  })

  it('ends on logout, once', () => {
    const s = createSession('k')
    const ended: string[] = []
    s.onEnd((r) => ended.push(r))
    s.start({ token: 'hcr_a', expiresAt: at(Date.now() + 60_000), kind: 'RESIDENT', name: 'x' }, true)
    s.end('logout')
    s.end('logout')
    expect(ended).toEqual(['logout'])
    expect(s.state.ended).toBe('logout')
  })
})
