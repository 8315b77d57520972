// The colours of the code, from one place. Chosen for outdoor reading: the
// text on each background has a contrast ratio of at least 4.5:1 (checked in
// colours.test.ts), and the yellow is dark enough to tell from white in sun.
import { t } from '@/locales/zh-CN'

export type Colour = 'GREEN' | 'YELLOW' | 'RED'

export interface ColourStyle {
  /** The code's colour: QR modules, header background. */
  main: string
  /** Text on the main colour. */
  text: string
  /** A light tint for panels. */
  tint: string
  label: string
  hint: string
}

export const colours: Record<Colour, ColourStyle> = {
  GREEN: { main: '#00703c', text: '#ffffff', tint: '#e6f4ec', label: t.colours.GREEN, hint: t.colours.GREEN_HINT },
  YELLOW: { main: '#f5c400', text: '#1a1a1a', tint: '#fff8d6', label: t.colours.YELLOW, hint: t.colours.YELLOW_HINT },
  RED: { main: '#c1121f', text: '#ffffff', tint: '#fde8ea', label: t.colours.RED, hint: t.colours.RED_HINT },
}

/** The QR modules of a yellow code are drawn darker than the header so scanners read them. */
export const qrInk: Record<Colour, string> = { GREEN: '#00703c', YELLOW: '#8a6d00', RED: '#c1121f' }

export function colourOf(c: string | null | undefined): ColourStyle {
  return colours[(c ?? 'GREEN') as Colour] ?? colours.GREEN
}

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const ch = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
  const lin = ch.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!
}

/** WCAG contrast ratio between two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}
