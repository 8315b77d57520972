// The checkpoint scanner (/scan): a placeholder until part 3 builds it on the
// shared foundation (Vant, urql, the session and error modules).
import { createApp } from 'vue'
import 'vant/lib/index.css'
import '@/shared/base.css'
import App from './App.vue'

createApp(App).mount('#app')
