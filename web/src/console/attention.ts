// Getting the operator's attention when a ticket arrives: a short chime and a
// count in the browser tab's title ("(2) 工单队列 - …") until they look.
import { onBeforeUnmount, ref } from 'vue'

let audio: AudioContext | null = null

/** A short two-tone chime (silent where the browser allows no sound yet). */
export function chime(): void {
  try {
    audio ??= new AudioContext()
    if (audio.state === 'suspended') void audio.resume().catch(() => {})
    const t0 = audio.currentTime
    for (const [i, f] of [880, 1320].entries()) {
      const osc = audio.createOscillator()
      const gain = audio.createGain()
      osc.frequency.value = f
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.18)
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + i * 0.18 + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16)
      osc.connect(gain).connect(audio.destination)
      osc.start(t0 + i * 0.18)
      osc.stop(t0 + i * 0.18 + 0.17)
    }
  } catch {
    // no audio: the badge still shows
  }
}

const prefix = /^\(\d+\) /

/** The tab badge: bump() on each arrival; cleared when the window regains focus or on clear(). */
export function useTabBadge() {
  const count = ref(0)
  const render = () => {
    const base = document.title.replace(prefix, '')
    document.title = count.value ? `(${count.value}) ${base}` : base
  }
  const bump = () => {
    count.value++
    render()
  }
  const clear = () => {
    count.value = 0
    render()
  }
  const onFocus = () => clear()
  window.addEventListener('focus', onFocus)
  onBeforeUnmount(() => window.removeEventListener('focus', onFocus))
  return { count, bump, clear }
}
