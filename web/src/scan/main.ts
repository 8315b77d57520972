// The checkpoint scanner (/scan): Vant on the inspector's phone, offline
// first — documents and queue in IndexedDB, the app itself kept by a service
// worker (sw.ts, built to /scan/sw.js) — docs/scanning.md and docs/web.md.
import { createApp } from 'vue'
import 'vant/lib/index.css'
import '@/shared/base.css'
import './scan.css'
import App from './App.vue'

createApp(App).mount('#app')

// Registered (and so checked for an update) only when online: offline, the
// installed worker goes on serving the app.
if ('serviceWorker' in navigator && import.meta.env.PROD && navigator.onLine !== false) {
  void navigator.serviceWorker.register('/scan/sw.js', { scope: '/scan/' })
}
