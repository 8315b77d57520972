#!/usr/bin/env node
// Runs the end-to-end flows (flows.mjs) against a fresh `healthcode dev` in
// Debian's Chromium. Screenshots go to $E2E_SCREENSHOTS or a new folder under
// the system's temporary directory, printed at the start. Usage:
//   node e2e/run.mjs [flow ...]
import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, launchBrowser, newDesktop, newPhone, startServer } from './harness.mjs'
import { flows } from './flows.mjs'
import { consoleFlows } from './console.mjs'
import { scanFlows } from './scan.mjs'
import { deskFlows } from './desk.mjs'
import { adminFlows } from './admin.mjs'

const only = process.argv.slice(2)
// The scanner's flow cuts the service worker's network too (context.route
// sees a service worker's requests only with this; context.setOffline does
// not reach them).
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1'
const shots = process.env.E2E_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'healthcode-e2e-shots-'))
mkdirSync(shots, { recursive: true })
console.log(`e2e: screenshots in ${shots}`)

const started = Date.now()
const server = await startServer({ log: !!process.env.E2E_SERVER_LOG })
console.log(`e2e: healthcode dev at ${server.url} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
const { browser, close } = await launchBrowser()
const gql = api(server.url)
let passed = 0
let failed = 0
try {
  const all = [
    ...Object.entries(flows).map(([name, fn]) => ({ name, fn, device: 'phone' })),
    ...Object.entries(scanFlows).map(([name, fn]) => ({ name, fn, device: 'phone' })),
    ...Object.entries(consoleFlows).map(([name, fn]) => ({ name, fn, device: 'desktop' })),
    ...Object.entries(deskFlows).map(([name, fn]) => ({ name, fn, device: 'desktop' })),
    ...Object.entries(adminFlows).map(([name, fn]) => ({ name, fn, device: 'desktop' })),
  ]
  for (const { name, fn: flow, device } of all) {
    if (only.length && !only.includes(name)) continue
    const t0 = Date.now()
    // A flow may open more browsers (a resident's phone beside the console): each
    // has its own screenshots, and their console errors fail the flow too.
    const opened = []
    const open = async (kind, label) => {
      const o = await (kind === 'phone' ? newPhone : newDesktop)(browser, server.url, shots, label ? `${name}-${label}` : name)
      opened.push(o)
      return o
    }
    const t = await open(device)
    let error = null
    try {
      await flow(t, { gql, url: server.url, open })
    } catch (e) {
      error = e
      for (const o of opened) await o.shot('failure').catch(() => {})
    }
    const errors = opened.flatMap((o) => o.errors)
    if (!error && errors.length) error = new Error(`console errors:\n  ${errors.join('\n  ')}`)
    for (const o of opened) await o.context.close()
    const secs = ((Date.now() - t0) / 1000).toFixed(1)
    if (error) {
      failed++
      console.log(`--- FAIL: ${name} (${secs} s)\n    ${String(error.stack ?? error).split('\n').slice(0, 6).join('\n    ')}`)
    } else {
      passed++
      console.log(`--- PASS: ${name} (${secs} s)`)
    }
  }
} finally {
  await close()
  await server.stop()
}
console.log(`e2e: screenshots in ${shots}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
