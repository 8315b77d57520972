// The approvals inbox (审批): what waits for a second person, by the role of
// the active grant — colour change requests for health officers, pending
// grants of approving roles for administrators (pendingGrants: only those the
// caller may approve), submitted rule sets for rule admins. The menu's badge
// and the page share the count.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import {
  PendingColourRequestsDocument, PendingGrantsDocument, RuleSetsDocument,
  type PendingColourRequestsQuery, type PendingGrantsQuery, type PersonFragment, type RuleSetRowFragment,
} from '@/console/generated/graphql'
import type { CombinedError } from '@urql/core'
import { errorText } from '@/api/errors'
import { t } from '@/locales/zh-CN.console'
import { client } from './context'

/** The roles with something to approve, and which part of the inbox each sees. */
export const INBOX_ROLES = ['HEALTH_OFFICER', 'ADMIN', 'RULE_ADMIN'] as const
export type InboxTab = 'colour' | 'grant' | 'rule'
export const TABS_OF: Record<string, InboxTab[]> = {
  HEALTH_OFFICER: ['colour'],
  ADMIN: ['grant'],
  RULE_ADMIN: ['rule'],
}

export type ColourRequestRow = PendingColourRequestsQuery['colourRequests'][number]
export type GrantRow = PendingGrantsQuery['pendingGrants']['nodes'][number]

/** Who asked or decided, in one line: 姓名（角色，单位，地区）; the system (the default rule set's) as such. */
export function personText(a: PersonFragment | null | undefined): string {
  if (!a || a.subject === 'system') return t.rules.system
  return `${a.name}（${[a.role, a.unit, a.regionName].filter(Boolean).join('，')}）`
}

/** Whether me (staff:N) asked for the colour change request. */
export const ownRequest = (r: ColourRequestRow, me: string) => !!me && r.requestedBy?.subject === me
export const useInbox = defineStore('inbox', () => {
  const colour = ref<ColourRequestRow[]>([])
  const grants = ref<GrantRow[]>([])
  const rules = ref<RuleSetRowFragment[]>([])
  const error = ref('')
  const loading = ref(false)
  const count = ref(0)

  async function loadGrants(): Promise<string> {
    const out: GrantRow[] = []
    let after: string | null = null
    for (let i = 0; i < 50; i++) {
      const res: { data?: PendingGrantsQuery; error?: CombinedError } = await client.query(PendingGrantsDocument, { first: 100, after }, { requestPolicy: 'network-only' }).toPromise()
      if (res.error) return errorText(res.error)
      const page: PendingGrantsQuery['pendingGrants'] | undefined = res.data?.pendingGrants
      if (!page) break
      out.push(...page.nodes)
      if (!page.pageInfo.hasNextPage) break
      after = page.pageInfo.endCursor ?? null
    }
    grants.value = out
    return ''
  }

  /**
   * Loads the parts of the inbox role sees and updates the count: what the
   * caller (me, its subject staff:N) may decide — its own requests and rule
   * sets it submitted are listed but not counted; the API lists no grant
   * the caller gave or received.
   */
  async function load(role: string | null, me = '') {
    const tabs = TABS_OF[role ?? ''] ?? []
    loading.value = true
    const errors: string[] = []
    if (tabs.includes('colour')) {
      const res = await client.query(PendingColourRequestsDocument, {}, { requestPolicy: 'network-only' }).toPromise()
      if (res.error) errors.push(errorText(res.error))
      colour.value = res.data?.colourRequests ?? []
    } else colour.value = []
    if (tabs.includes('grant')) {
      const e = await loadGrants()
      if (e) errors.push(e)
    } else grants.value = []
    if (tabs.includes('rule')) {
      const res = await client.query(RuleSetsDocument, {}, { requestPolicy: 'network-only' }).toPromise()
      if (res.error) errors.push(errorText(res.error))
      rules.value = (res.data?.ruleSets ?? []).filter((r) => r.status === 'DRAFT')
    } else rules.value = []
    loading.value = false
    error.value = errors.join('；')
    count.value =
      colour.value.filter((r) => !ownRequest(r, me)).length +
      grants.value.length +
      rules.value.filter((r) => !me || r.submitter?.subject !== me).length
  }

  return { colour, grants, rules, error, loading, count, load }
})
