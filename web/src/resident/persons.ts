// The persons the resident may act for (self and dependants) and the one the
// pages currently show: shared by the code, check-in, appeal and profile
// pages, hence a store.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { MyPersonsDocument, type MyPersonsQuery } from '@/api/generated/graphql'
import { client } from './context'

export type PersonItem = MyPersonsQuery['myDependents'][number]

const currentKey = 'hc.resident.current'

export const usePersons = defineStore('persons', () => {
  const list = ref<PersonItem[]>([])
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const currentId = ref<string | null>(sessionStorage.getItem(currentKey))

  const self = computed(() => list.value.find((p) => p.relation === 'SELF') ?? null)
  const current = computed(() => list.value.find((p) => p.id === currentId.value) ?? self.value ?? list.value[0] ?? null)
  /** The personId argument for the API: null means the resident's own person. */
  const apiId = computed(() => (current.value && current.value.relation !== 'SELF' ? current.value.id : null))

  async function load() {
    const res = await client.query(MyPersonsDocument, {}, { requestPolicy: 'network-only' }).toPromise()
    error.value = res.error ?? null
    if (res.data) list.value = res.data.myDependents
    loaded.value = true
    return list.value
  }

  function select(id: string | null) {
    currentId.value = id
    if (id) sessionStorage.setItem(currentKey, id)
    else sessionStorage.removeItem(currentKey)
  }

  function reset() {
    list.value = []
    loaded.value = false
    select(null)
  }

  return { list, loaded, error, self, current, currentId, apiId, load, select, reset }
})
