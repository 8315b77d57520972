import { createApp } from 'vue'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import 'vant/lib/index.css'
import '@/shared/base.css'
import App from './App.vue'
import { router } from './router'
import { client } from './context'

createApp(App).use(createPinia()).use(urql, client).use(router).mount('#app')
