import { describe, expect, it } from 'vitest'
import { colours, contrast, qrInk } from './colours'

describe('code colours', () => {
  it('are readable outdoors: text on each colour at least 4.5:1, QR ink on white at least 4.5:1', () => {
    for (const [name, c] of Object.entries(colours)) {
      expect(contrast(c.main, c.text), name).toBeGreaterThanOrEqual(4.5)
      expect(contrast(qrInk[name as keyof typeof qrInk], '#ffffff'), name).toBeGreaterThanOrEqual(4.5)
    }
  })
  it('of the UI kit reach 4.5:1 against white (base.css)', async () => {
    const { readFileSync } = await import('node:fs')
    const css = readFileSync(`${process.cwd()}/src/shared/base.css`, 'utf8')
    for (const v of ['--van-success-color', '--van-danger-color', '--van-warning-color', '--van-field-error-message-color', '--van-primary-color', '--van-text-color-2', '--van-text-color-3']) {
      const hex = new RegExp(`${v}:\\s*(#[0-9a-f]{6})`).exec(css)?.[1]
      expect(hex, v).toBeDefined()
      expect(contrast(hex!, '#ffffff'), v).toBeGreaterThanOrEqual(4.5)
    }
  })

  it('are labelled in Chinese', () => {
    expect(colours.GREEN.label).toBe('绿码')
    expect(colours.YELLOW.label).toBe('黄码')
    expect(colours.RED.label).toBe('红码')
  })
})
