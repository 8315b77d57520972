// The result's sound and vibration, told apart without looking: one high
// beep for green, two for yellow, three low ones for red or an invalid code.
let ctx: AudioContext | null = null

function beep(at: number, freq: number, ms: number) {
  if (!ctx) return
  const o = ctx.createOscillator()
  const g = ctx.createGain()
  o.frequency.value = freq
  o.type = 'square'
  g.gain.setValueAtTime(0.15, ctx.currentTime + at)
  g.gain.setValueAtTime(0, ctx.currentTime + at + ms / 1000)
  o.connect(g).connect(ctx.destination)
  o.start(ctx.currentTime + at)
  o.stop(ctx.currentTime + at + ms / 1000 + 0.02)
}

export function signal(kind: 'GREEN' | 'YELLOW' | 'RED' | 'INVALID') {
  try {
    ctx ??= new AudioContext()
    if (ctx.state === 'suspended') void ctx.resume()
    if (kind === 'GREEN') beep(0, 1320, 120)
    else if (kind === 'YELLOW') [0, 0.18].forEach((a) => beep(a, 990, 120))
    else [0, 0.2, 0.4].forEach((a) => beep(a, 440, 150))
  } catch {
    // no audio (e.g. a test browser without an output device)
  }
  navigator.vibrate?.(kind === 'GREEN' ? 80 : kind === 'YELLOW' ? [80, 60, 80] : [200, 80, 200, 80, 200])
}
