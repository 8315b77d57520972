// The signed-in staff member: their grants (role × region) and the grant the
// console works in. An account with several grants switches between them in
// the header; the menus follow the active grant's role (the API still
// decides what each call may do, whatever the menus show).
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { ConsoleMeDocument, type ConsoleMeQuery } from '@/console/generated/graphql'
import { errorText } from '@/api/errors'
import { client, session } from './context'

export type Me = NonNullable<ConsoleMeQuery['me']>
export type Grant = Me['grants'][number]

const KEY = 'hc.console.grant'

function stored(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

export const useAccount = defineStore('account', () => {
  const me = ref<Me | null>(null)
  const error = ref('')
  const activeId = ref<string | null>(stored())
  let loading: Promise<void> | null = null

  const grants = computed<Grant[]>(() => me.value?.grants ?? [])
  const active = computed<Grant | null>(() => grants.value.find((g) => g.id === activeId.value) ?? grants.value[0] ?? null)
  const role = computed(() => active.value?.role ?? null)
  /** The active grant's region code ('61' for the province). */
  const region = computed(() => active.value?.regionCode ?? '')
  const regionName = computed(() => active.value?.region?.name ?? active.value?.regionCode ?? '')

  function load(force = false): Promise<void> {
    if (me.value && !force) return Promise.resolve()
    loading ??= client
      .query(ConsoleMeDocument, {}, { requestPolicy: 'network-only' })
      .toPromise()
      .then((res) => {
        error.value = res.error ? errorText(res.error) : ''
        me.value = res.data?.me ?? null
      })
      .finally(() => {
        loading = null
      })
    return loading
  }

  function switchTo(id: string) {
    activeId.value = id
    try {
      localStorage.setItem(KEY, id)
    } catch {
      // storage disabled: the choice lasts for this page
    }
  }

  /** Whether any grant of the account has one of these roles. */
  function hasRole(roles: readonly string[]): Grant | null {
    if (active.value && roles.includes(active.value.role)) return active.value
    return grants.value.find((g) => roles.includes(g.role)) ?? null
  }

  session.onEnd(() => {
    me.value = null
  })

  return { me, error, grants, active, role, region, regionName, load, switchTo, hasRole }
})
