// A session: the bearer token in memory, mirrored to storage the user can
// clear (localStorage when "remember me" is on, else sessionStorage). It ends
// at its expiry, on a 401 / UNAUTHENTICATED answer, or on logout; the app
// then goes back to its login page.
import { reactive } from 'vue'

export interface SessionData {
  token: string
  /** RFC 3339 */
  expiresAt: string
  kind: string
  name: string
  /** The resident's phone as typed at login (prefills their own declaration). */
  phone?: string
}

export type EndReason = 'logout' | 'expired'

export interface Session {
  readonly state: { data: SessionData | null; ended: EndReason | null }
  /** The token, or null when there is no live session. */
  token(): string | null
  active(): boolean
  start(data: SessionData, remember: boolean): void
  end(reason: EndReason): void
  onEnd(cb: (reason: EndReason) => void): () => void
}

function store(kind: 'localStorage' | 'sessionStorage'): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window[kind]
  } catch {
    return null // storage disabled
  }
}

export function createSession(key: string, now: () => number = Date.now): Session {
  const stores = [store('localStorage'), store('sessionStorage')]
  const state = reactive<{ data: SessionData | null; ended: EndReason | null }>({ data: null, ended: null })
  const listeners = new Set<(r: EndReason) => void>()
  let timer: ReturnType<typeof setTimeout> | undefined

  const live = (d: SessionData | null): d is SessionData => !!d && Date.parse(d.expiresAt) > now()

  function arm(d: SessionData) {
    clearTimeout(timer)
    const ms = Date.parse(d.expiresAt) - now()
    // setTimeout caps at ~24.8 days; a longer session re-arms when it fires.
    timer = setTimeout(() => (live(state.data) ? arm(state.data) : end('expired')), Math.min(ms, 2 ** 31 - 1))
  }

  function end(reason: EndReason) {
    clearTimeout(timer)
    const had = state.data !== null
    state.data = null
    state.ended = reason
    for (const s of stores) s?.removeItem(key)
    if (had) for (const cb of listeners) cb(reason)
  }

  for (const s of stores) {
    try {
      const raw = s?.getItem(key)
      if (!raw) continue
      const d = JSON.parse(raw) as SessionData
      if (live(d) && typeof d.token === 'string') {
        state.data = d
        arm(d)
        break
      }
      s?.removeItem(key)
    } catch {
      s?.removeItem(key)
    }
  }

  return {
    state,
    token() {
      if (state.data && !live(state.data)) end('expired')
      return state.data?.token ?? null
    },
    active() {
      return this.token() !== null
    },
    start(data, remember) {
      for (const s of stores) s?.removeItem(key)
      state.data = data
      state.ended = null
      ;(remember ? stores[0] : stores[1])?.setItem(key, JSON.stringify(data))
      arm(data)
    },
    end,
    onEnd(cb) {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
  }
}
