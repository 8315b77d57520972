// The staff console (/console): Element Plus on desktop screens — the 12320
// hotline queue and tickets, the handler's appeal desk, the units' figures and
// the supervisor's rankings, charts, reports and data exchange (docs/web.md).
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import 'element-plus/dist/index.css'
import './console.css'
import App from './App.vue'
import { client } from './context'
import { router } from './router'

createApp(App).use(createPinia()).use(urql, client).use(router).mount('#app')
