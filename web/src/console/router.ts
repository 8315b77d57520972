// The console's screens. Each route names the roles whose grants show it in
// the menu (meta.roles) and its menu entry (meta.menu: group and label);
// part 3's community desk and administration are added the same way. Every
// route but the login needs a session.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { session } from './context'
import { useAccount } from './account'
import LoginPage from './pages/LoginPage.vue'
import ConsoleLayout from './components/ConsoleLayout.vue'
import { INBOX_ROLES } from './inbox'

/** The hotline's people: operators dispatch, handlers handle, administrators supervise units. */
export const HOTLINE_ROLES = ['OPERATOR', 'HANDLER', 'ADMIN'] as const
/** Who reads rankings, indicators and reports: supervisors and administrators. */
export const SUPERVISION_ROLES = ['SUPERVISOR', 'ADMIN'] as const

/** Community staff: health officers and administrators of an area (person.declare, passcard.review, fever.handle). */
export const COMMUNITY_ROLES = ['HEALTH_OFFICER', 'ADMIN'] as const

export type MenuGroup = 'hotline' | 'supervision' | 'community' | 'admin'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginPage, meta: { public: true, title: '登录' } },
  { path: '/register', name: 'registerInstitution', component: () => import('./pages/RegisterInstitutionPage.vue'), meta: { public: true, title: '机构注册登记' } },
  {
    path: '/',
    component: ConsoleLayout,
    children: [
      { path: '', name: 'home', component: () => import('./pages/HomePage.vue'), meta: { title: '工作台' } },
      {
        path: 'tickets',
        name: 'queue',
        component: () => import('./hotline/QueuePage.vue'),
        meta: { title: '工单队列', roles: [...HOTLINE_ROLES], menu: { group: 'hotline', label: '工单队列', order: 1 } },
      },
      {
        path: 'tickets/new',
        name: 'newTicket',
        component: () => import('./hotline/NewTicketPage.vue'),
        meta: { title: '来电登记', roles: ['OPERATOR'], menu: { group: 'hotline', label: '来电登记', order: 2 } },
      },
      {
        path: 'tickets/:id',
        name: 'ticket',
        component: () => import('./hotline/TicketPage.vue'),
        meta: { title: '工单详情', roles: [...HOTLINE_ROLES] },
      },
      {
        path: 'appeals/:id',
        name: 'appealDesk',
        component: () => import('./hotline/AppealDeskPage.vue'),
        meta: { title: '申诉核查', roles: [...HOTLINE_ROLES] },
      },
      {
        path: 'units',
        name: 'units',
        component: () => import('./hotline/UnitsPage.vue'),
        meta: { title: '承办单位工作台', roles: [...HOTLINE_ROLES], menu: { group: 'hotline', label: '承办单位工作台', order: 3 } },
      },
      {
        path: 'rankings',
        name: 'rankings',
        component: () => import('./supervision/RankingsPage.vue'),
        meta: { title: '排名通报', roles: [...SUPERVISION_ROLES], menu: { group: 'supervision', label: '排名通报', order: 1 } },
      },
      {
        path: 'charts',
        name: 'charts',
        component: () => import('./supervision/ChartsPage.vue'),
        meta: { title: '指标趋势', roles: [...SUPERVISION_ROLES], menu: { group: 'supervision', label: '指标趋势', order: 2 } },
      },
      {
        path: 'reports',
        name: 'reports',
        component: () => import('./supervision/ReportsPage.vue'),
        meta: { title: '通报与报送', roles: [...SUPERVISION_ROLES], menu: { group: 'supervision', label: '通报与报送', order: 3 } },
      },
      {
        path: 'exchange',
        name: 'exchange',
        component: () => import('./supervision/ExchangePage.vue'),
        meta: { title: '数据交换', roles: [...SUPERVISION_ROLES], menu: { group: 'supervision', label: '数据交换', order: 4 } },
      },
      {
        path: 'community/persons',
        name: 'communityPersons',
        component: () => import('./community/PersonsPage.vue'),
        meta: { title: '人员与纸质码', roles: [...COMMUNITY_ROLES], menu: { group: 'community', label: '代为申领与纸质码', order: 1 } },
      },
      {
        path: 'community/passcards',
        name: 'passCards',
        component: () => import('./community/PassCardsPage.vue'),
        meta: { title: '健康通行卡审核', roles: [...COMMUNITY_ROLES], menu: { group: 'community', label: '健康通行卡审核', order: 2 } },
      },
      {
        path: 'community/fevers',
        name: 'fevers',
        component: () => import('./community/FeversPage.vue'),
        meta: { title: '发热上报', roles: [...COMMUNITY_ROLES], menu: { group: 'community', label: '发热上报', order: 3 } },
      },
      {
        path: 'community/compounds',
        name: 'compounds',
        component: () => import('./community/CompoundsPage.vue'),
        meta: { title: '组 / 小区', roles: ['ADMIN'], menu: { group: 'community', label: '组 / 小区', order: 4 } },
      },
      {
        path: 'admin/area-risk',
        name: 'areaRisk',
        component: () => import('./admin/AreaRiskPage.vue'),
        meta: { title: '地区风险等级', roles: ['HEALTH_OFFICER'], menu: { group: 'admin', label: '地区风险等级', order: 1 } },
      },
      {
        path: 'admin/response-level',
        name: 'responseLevel',
        component: () => import('./admin/ResponseLevelPage.vue'),
        meta: { title: '响应级别', roles: ['ADMIN'], menu: { group: 'admin', label: '响应级别', order: 2 } },
      },
      {
        path: 'admin/institutions',
        name: 'institutions',
        component: () => import('./admin/InstitutionsPage.vue'),
        meta: { title: '查验机构', roles: ['ADMIN', 'INSTITUTION_ADMIN'], menu: { group: 'admin', label: '查验机构', order: 3 } },
      },
      // API keys: city sub-systems' and medical institutions' machine clients.
      {
        path: 'admin/api-keys',
        name: 'apiKeys',
        component: () => import('./admin/ApiKeysPage.vue'),
        meta: { title: '接口密钥', roles: ['ADMIN'], menu: { group: 'admin', label: '接口密钥', order: 4 } },
      },
      {
        path: 'admin/rule-sets',
        name: 'ruleSets',
        component: () => import('./admin/RuleSetsPage.vue'),
        meta: { title: '赋码规则', roles: ['RULE_ADMIN'], menu: { group: 'admin', label: '赋码规则', order: 4 } },
      },
      {
        path: 'admin/inbox',
        name: 'inbox',
        component: () => import('./admin/InboxPage.vue'),
        meta: { title: '审批', roles: [...INBOX_ROLES], menu: { group: 'admin', label: '审批', order: 0 } },
      },
      {
        path: 'admin/audit',
        name: 'audit',
        component: () => import('./admin/AuditPage.vue'),
        meta: { title: '审计日志', roles: ['AUDITOR'], menu: { group: 'admin', label: '审计日志', order: 5 } },
      },
      // Administration of staff accounts and grants, and the trust list of
      // other issuers (institutions' venues and inspectors are on the
      // institutions page; guardianships on the community's persons page).
      {
        path: 'admin/staff',
        name: 'staff',
        component: () => import('./admin/StaffPage.vue'),
        meta: { title: '人员账号与授权', roles: ['ADMIN'], menu: { group: 'admin', label: '人员账号与授权', order: 6 } },
      },
      {
        path: 'admin/trust',
        name: 'trust',
        component: () => import('./admin/TrustListPage.vue'),
        meta: { title: '互信签发方', roles: ['ADMIN'], menu: { group: 'admin', label: '互信签发方', order: 7 } },
      },
      { path: ':pathMatch(.*)*', name: 'notFound', component: () => import('./pages/NotFoundPage.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes,
})

router.beforeEach(async (to) => {
  if (to.meta.public) {
    return to.name === 'login' && session.active() ? { name: 'home' } : true
  }
  if (!session.active()) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  const account = useAccount()
  await account.load()
  const roles = to.meta.roles
  if (roles?.length && account.active && !roles.includes(account.active.role)) {
    // A shared link to a screen of another of the account's grants: switch to it.
    const other = account.hasRole(roles)
    if (!other) return { name: 'home', query: { denied: String(to.meta.title ?? '') } }
    account.switchTo(other.id)
  }
  return true
})

router.afterEach((to) => {
  document.title = `${String(to.meta.title ?? '')} - 陕西健康码工作台`
})

session.onEnd((reason) => {
  const current = router.currentRoute.value
  if (!current.meta.public) {
    void router.replace({ name: 'login', query: { [reason]: '1', redirect: current.fullPath } })
  }
})

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    title?: string
    roles?: string[]
    menu?: { group: MenuGroup; label: string; order: number }
  }
}
