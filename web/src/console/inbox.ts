// The approvals inbox (审批): what waits for a second person, by the role of
// the active grant — colour change requests for health officers, pending
// grants of approving roles for administrators (from the staff list, StaffList
// as the staff page reads it: the API
// has no list of pending grants), submitted rule sets for rule admins. The
// menu's badge and the page share the count.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import {
  PendingColourRequestsDocument, RuleSetsDocument, StaffListDocument,
  type PendingColourRequestsQuery, type PersonFragment, type RuleSetRowFragment, type StaffListQuery,
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
type StaffNode = StaffListQuery['staff']['nodes'][number]
export type GrantRow = StaffNode['grants'][number] & { staff: Pick<StaffNode, 'id' | 'username' | 'displayName'> }

/** Who asked or decided, in one line: 姓名（角色，单位，地区）; the system (the default rule set's) as such. */
export function personText(a: PersonFragment | null | undefined): string {
  if (!a || a.subject === 'system') return t.rules.system
  return `${a.name}（${[a.role, a.unit, a.regionName].filter(Boolean).join('，')}）`
}

/** Whether me (staff:N) asked for the colour change request. */
export const ownRequest = (r: ColourRequestRow, me: string) => !!me && r.requestedBy?.subject === me
/** Whether me gave the grant or receives it (approveGrant refuses both). */
export const ownGrant = (g: GrantRow, me: string) => !!me && (g.grantedBy?.subject === me || `staff:${g.staff.id}` === me)

/** The pending grants among a page of staff accounts, each with its grantee. */
export function pendingGrants(nodes: Pick<StaffNode, 'id' | 'username' | 'displayName' | 'grants'>[]): GrantRow[] {
  return nodes.flatMap((s) =>
    s.grants.filter((g) => g.pending).map((g) => ({ ...g, staff: { id: s.id, username: s.username, displayName: s.displayName } })),
  )
}

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
    // Every page of the staff list the caller may see (homed inside its grants).
    for (let i = 0; i < 50; i++) {
      const res: { data?: StaffListQuery; error?: CombinedError } = await client.query(StaffListDocument, { first: 100, after }, { requestPolicy: 'network-only' }).toPromise()
      if (res.error) return errorText(res.error)
      const page: StaffListQuery['staff'] | undefined = res.data?.staff
      if (!page) break
      out.push(...pendingGrants(page.nodes))
      if (!page.pageInfo.hasNextPage) break
      after = page.pageInfo.endCursor ?? null
    }
    grants.value = out
    return ''
  }

  /**
   * Loads the parts of the inbox role sees and updates the count: what the
   * caller (me, its subject staff:N) may decide — its own requests, grants
   * it gave or received and rule sets it submitted are listed but not counted.
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
      grants.value.filter((g) => !ownGrant(g, me)).length +
      rules.value.filter((r) => !me || r.submitter?.subject !== me).length
  }

  return { colour, grants, rules, error, loading, count, load }
})
