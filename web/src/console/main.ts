// The staff console (/console): Element Plus on desktop screens. A minimal
// login and placeholder until part 2 builds the hotline, appeal desk and
// supervision screens on it.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import urql from '@urql/vue'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { client } from './context'

createApp(App).use(createPinia()).use(urql, client).mount('#app')
