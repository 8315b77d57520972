// Filters kept in the URL's query, so that a view can be bookmarked and
// shared: reading them with defaults, and writing them back (replacing the
// history entry, dropping empty values).
import { computed } from 'vue'
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router'

export function useQueryState<T extends Record<string, string>>(defaults: T) {
  const route = useRoute()
  const router = useRouter()
  const state = computed<T>(() => {
    const out = { ...defaults }
    for (const k of Object.keys(defaults) as (keyof T)[]) {
      const v = route.query[k as string]
      if (typeof v === 'string') out[k] = v as T[keyof T]
    }
    return out
  })
  function set(patch: Partial<T>, push = false) {
    const next: LocationQueryRaw = { ...route.query }
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === defaults[k]) delete next[k]
      else next[k] = v
    }
    return push ? router.push({ query: next }) : router.replace({ query: next })
  }
  return { state, set }
}
