// The resident pages. Every page but the login needs a session; an ended
// session sends the user back to the login page with the reason.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { session } from './context'
import LoginPage from './pages/LoginPage.vue'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginPage, meta: { public: true, title: '登录' } },
  { path: '/', name: 'code', component: () => import('./pages/CodePage.vue'), meta: { tab: true, title: '我的健康码' } },
  { path: '/declare', name: 'declare', component: () => import('./pages/DeclarePage.vue'), meta: { tab: true, title: '健康申报' } },
  { path: '/check-in', name: 'checkIn', component: () => import('./pages/CheckInPage.vue'), meta: { tab: true, title: '健康打卡' } },
  { path: '/dependents', name: 'dependents', component: () => import('./pages/DependentsPage.vue'), meta: { title: '家属健康码' } },
  { path: '/appeals', name: 'appeals', component: () => import('./pages/AppealsPage.vue'), meta: { tab: true, title: '我的申诉' } },
  { path: '/appeals/new', name: 'appealNew', component: () => import('./pages/AppealNewPage.vue'), meta: { title: '赋码申诉' } },
  { path: '/me', name: 'me', component: () => import('./pages/ProfilePage.vue'), meta: { tab: true, title: '我的' } },
  { path: '/me/correct', name: 'correct', component: () => import('./pages/CorrectPage.vue'), meta: { title: '修改个人信息' } },
  { path: '/:pathMatch(.*)*', name: 'notFound', component: () => import('./pages/NotFoundPage.vue'), meta: { public: true, title: '页面不存在' } },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.active()) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.name === 'login' && session.active()) return { name: 'code' }
  return true
})

router.afterEach((to) => {
  document.title = `${String(to.meta.title ?? '')} - 陕西健康码`
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
    tab?: boolean
    title?: string
  }
}
