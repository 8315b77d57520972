#!/usr/bin/env node
// Reports the gzipped JavaScript of each entry after `vite build`: what the
// first page load fetches (the entry and its static imports) and everything
// the entry can load (with its lazy pages). Fails when the resident entry's
// JavaScript, lazy pages included, exceeds its budget, or the scanner's its own.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const manifest = JSON.parse(readFileSync(join(dist, 'app', '.vite', 'manifest.json'), 'utf8'))
// The resident pages (lazy pages included) and the scanner (its first screen and
// everything it loads lazily but the QR decoder's WebAssembly, which is not JavaScript).
const budgets = { 'index.html': 250 * 1024, 'scan/index.html': 200 * 1024 }
const gz = new Map()
const size = (file) => {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(dist, 'app', file)), { level: 9 }).length)
  return gz.get(file)
}

function walk(key, lazy, seen) {
  if (seen.has(key)) return
  seen.add(key)
  const c = manifest[key]
  for (const k of c.imports ?? []) walk(k, lazy, seen)
  if (lazy) for (const k of c.dynamicImports ?? []) walk(k, lazy, seen)
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`
let failed = false
console.log('gzipped JavaScript per entry (first load / with lazy pages):')
for (const [key, c] of Object.entries(manifest)) {
  if (!c.isEntry) continue
  const total = (lazy) => {
    const seen = new Set()
    walk(key, lazy, seen)
    return [...seen].map((k) => manifest[k].file).filter((f) => f.endsWith('.js')).reduce((s, f) => s + size(f), 0)
  }
  const first = total(false)
  const all = total(true)
  const budget = budgets[key]
  const over = budget && all > budget
  failed ||= !!over
  console.log(`  ${('/' + key.replace(/index\.html$/, '')).padEnd(10)} ${kb(first).padStart(9)} / ${kb(all).padStart(9)}${budget ? `  (budget ${kb(budget)}${over ? ', EXCEEDED' : ''})` : ''}`)
}
if (failed) {
  console.error('bundle-size: an entry exceeds its budget')
  process.exit(1)
}
