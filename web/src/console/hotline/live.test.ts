import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { api } from '@/test/mockContext'
vi.mock('../context', () => import('@/test/mockContext').then((m) => m.mockContext('test.console')))

import { reloadOnTicketChange } from './live'

// Mounts a page of ticket 5 at version v1 while the queue announces ticket id at version at.
async function announce(id: string, at: string) {
  api.handlers = { TicketQueue: () => ({ ticketQueue: { id, updatedAt: at } }) }
  const reload = vi.fn()
  const w = mount(defineComponent({ setup: () => (reloadOnTicketChange(() => '5', () => 'v1', reload), () => h('i')) }))
  await flushPromises()
  w.unmount()
  return reload
}

describe('reloadOnTicketChange', () => {
  beforeEach(() => {
    api.calls.length = 0
  })

  it('reloads on another version of its own ticket only', async () => {
    expect(await announce('5', 'v2')).toHaveBeenCalledTimes(1)
    expect(api.calls.map(([k]) => k)).toEqual(['TicketQueue'])
    expect(await announce('5', 'v1')).not.toHaveBeenCalled()
    expect(await announce('6', 'v2')).not.toHaveBeenCalled()
  })
})
