/// <reference types="vitest/config" />
// One Vite project, three entries: the resident pages (/), the checkpoint
// scanner (/scan) and the staff console (/console). `npm run build` writes
// them to dist/app/, which the Go binary embeds (web/embed.go).
import { fileURLToPath, URL } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'

// The healthcode server the dev server proxies the API to (healthcode dev).
const api = process.env.HEALTHCODE_API ?? 'http://127.0.0.1:8080'

/**
 * Vant's stylesheet lists its icon font twice: inlined (data:) and from a
 * CDN. The page loads nothing from other hosts (the server's CSP refuses it
 * and would log a console error), so the remote fallback is dropped.
 */
const localIconFont: Plugin = {
  name: 'healthcode-local-icon-font',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]vant[\\/]lib[\\/]index\.css$/.test(id.split('?')[0] ?? '')) return null
    return { code: code.replace(/,\s*url\((?:https?:)?\/\/[^)]*\)\s*format\([^)]*\)/g, ''), map: null }
  },
}

export default defineConfig({
  plugins: [vue(), localIconFont],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: Number(process.env.VITE_PORT ?? 5173),
    strictPort: true,
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: false },
      '/.well-known': { target: api },
      '/api': { target: api },
    },
  },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2020',
    assetsDir: 'assets',
    // Report the gzipped size of every chunk (the resident entry must stay
    // under 250 KB of gzipped JavaScript; scripts/bundle-size.mjs checks it).
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
    modulePreload: { polyfill: false },
    // dist/app/.vite/manifest.json: scripts/bundle-size.mjs reads it; the Go
    // server does not serve dot-directories.
    manifest: true,
    rollupOptions: {
      input: {
        resident: fileURLToPath(new URL('./index.html', import.meta.url)),
        scan: fileURLToPath(new URL('./scan/index.html', import.meta.url)),
        console: fileURLToPath(new URL('./console/index.html', import.meta.url)),
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    css: false,
    server: { deps: { inline: ['vant'] } },
  },
})
