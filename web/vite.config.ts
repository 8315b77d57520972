/// <reference types="vitest/config" />
// One Vite project, three entries: the resident pages (/), the checkpoint
// scanner (/scan) and the staff console (/console). `npm run build` writes
// them to dist/app/, which the Go binary embeds (web/embed.go).
import { fileURLToPath, URL } from 'node:url'
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { defineConfig, transformWithEsbuild, type Plugin } from 'vite'
import type { OutputBundle, OutputChunk } from 'rollup'
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

/**
 * Builds the scanner's service worker (src/scan/sw.ts → scan/sw.js) with the
 * files of the scanner's build: every chunk the /scan/ entry loads, eagerly
 * or lazily, and their stylesheets are precached; the QR decoder's chunks
 * and WebAssembly are cached in the background (__LAZY__). The version is a
 * hash of the file names, so a new build installs a new cache.
 */
const scannerServiceWorker: Plugin = {
  name: 'healthcode-scan-service-worker',
  apply: 'build',
  async generateBundle(_options, bundle: OutputBundle) {
    const chunks = Object.values(bundle).filter((f): f is OutputChunk => f.type === 'chunk')
    const entry = chunks.find((c) => c.isEntry && c.facadeModuleId?.endsWith('/scan/index.html'))
    if (!entry) return
    const byName = new Map(chunks.map((c) => [c.fileName, c]))
    const seen = new Set<string>()
    const walk = (c: OutputChunk) => {
      if (seen.has(c.fileName)) return
      seen.add(c.fileName)
      for (const f of [...c.imports, ...c.dynamicImports]) {
        const next = byName.get(f)
        if (next) walk(next)
      }
    }
    walk(entry)
    const decoder = (c: OutputChunk) => c.moduleIds.some((m) => /[\\/](barcode-detector|zxing-wasm)[\\/]/.test(m))
    const precache: string[] = []
    const lazy: string[] = []
    for (const name of seen) {
      const c = byName.get(name)!
      const css = [...(c.viteMetadata?.importedCss ?? [])]
      ;(decoder(c) ? lazy : precache).push(name, ...css)
      for (const a of Object.values(bundle)) {
        if (a.type === 'asset' && a.fileName.startsWith('assets/') && c.code.includes(a.fileName.slice('assets/'.length))) {
          ;(decoder(c) || a.fileName.endsWith('.wasm') ? lazy : precache).push(a.fileName)
        }
      }
    }
    const files = (l: string[]) => [...new Set(l)].sort().map((f) => `/${f}`)
    const version = createHash('sha256').update(JSON.stringify([files(precache), files(lazy)])).digest('hex').slice(0, 12)
    const source = readFileSync(fileURLToPath(new URL('./src/scan/sw.ts', import.meta.url)), 'utf8')
    const { code } = await transformWithEsbuild(source, 'sw.ts', {
      loader: 'ts',
      target: 'es2020',
      define: { __PRECACHE__: JSON.stringify(files(precache)), __LAZY__: JSON.stringify(files(lazy)), __VERSION__: JSON.stringify(version) },
    })
    this.emitFile({ type: 'asset', fileName: 'scan/sw.js', source: code })
  },
}

export default defineConfig({
  plugins: [vue(), localIconFont, scannerServiceWorker],
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
