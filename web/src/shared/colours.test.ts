import { describe, expect, it } from 'vitest'
import { colours, contrast, qrInk } from './colours'

describe('code colours', () => {
  it('are readable outdoors: text on each colour at least 4.5:1, QR ink on white at least 4.5:1', () => {
    for (const [name, c] of Object.entries(colours)) {
      expect(contrast(c.main, c.text), name).toBeGreaterThanOrEqual(4.5)
      expect(contrast(qrInk[name as keyof typeof qrInk], '#ffffff'), name).toBeGreaterThanOrEqual(4.5)
    }
  })
  it('are labelled in Chinese', () => {
    expect(colours.GREEN.label).toBe('绿码')
    expect(colours.YELLOW.label).toBe('黄码')
    expect(colours.RED.label).toBe('红码')
  })
})
