// The end-to-end harness: starts `healthcode dev` (its own data directory,
// free ports, no demo activity) and Debian's Chromium through playwright-core,
// gives each flow a fresh phone-sized browser context, saves a screenshot of
// every screen a flow visits, and fails a flow on any console error.
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const repo = resolve(here, '..', '..')

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
]

/** Starts bin/healthcode dev and resolves with its base URL once /readyz answers. */
export async function startServer({ log }) {
  const bin = process.env.HEALTHCODE_BIN ?? join(repo, 'bin', 'healthcode')
  if (!existsSync(bin)) throw new Error(`${bin} not found: run make build first`)
  const dataDir = mkdtempSync(join(tmpdir(), 'healthcode-e2e-data-'))
  chmodSync(dataDir, 0o755) // as root, PostgreSQL runs as the postgres user and must reach it
  // The demo province (accounts, units, tickets, rankings; about 15 s more to
  // start) unless E2E_DEMO=0: the console's flows read its rankings and reports.
  const demo = process.env.E2E_DEMO !== '0'
  const child = spawn(bin, demo ? ['dev'] : ['dev', '--no-demo-data'], {
    cwd: repo,
    detached: true, // its own process group: stopped as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HEALTHCODE_DATA_DIR: dataDir, HTTP_ADDR: '127.0.0.1:0', LOG_LEVEL: 'warn', HEALTHCODE_DEMO_DATA: demo ? 'true' : 'false',
      // Every browser of the suite logs in from 127.0.0.1: more than the 30 staff or resident logins per address
      // in 10 minutes a real address gets (docs/operations.md RATE_LIMITS).
      RATE_LIMITS: 'login:address=1000/10m,loginResident:address=1000/10m' },
  })
  let output = ''
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`healthcode dev did not start in 300 s:\n${output}`)), 300_000)
    const onData = (b) => {
      output += b.toString()
      const m = /web:\s+(http:\/\/[^\s]+?)\/?\s/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolveUrl(m[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (b) => {
      output += b.toString()
      if (log) process.stderr.write(b)
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`healthcode dev exited with ${code}:\n${output}`))
    })
  })
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break
    } catch {}
    await new Promise((r) => setTimeout(r, 200))
  }
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    try {
      process.kill(-child.pid, 'SIGINT')
    } catch {}
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 20_000))
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { url, stop }
}

/** A GraphQL call as a script would make it (the handler's actions in a flow). */
export function api(url) {
  return async function gql(token, query, variables = {}) {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    })
    const body = await res.json()
    if (body.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`)
    return body.data
  }
}

/** Chromium from Debian (never a downloaded browser); playwright gives it a fresh profile (--user-data-dir). */
export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS })
  return { browser, close: () => browser.close() }
}

/** A flow's page: 375 × 812, Chinese, console errors and sideways overflow collected, screenshots numbered. */
export async function newPhone(browser, url, shotsDir, flow) {
  return newPage(browser, url, shotsDir, flow, {
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  })
}

/**
 * A staff member's desktop page (the console): 1280 × 800 unless given, the
 * same checks; shot(name, { sizes: [[1920, 1080]] }) also saves the screen at
 * other sizes (each checked for sideways scrolling).
 */
export async function newDesktop(browser, url, shotsDir, flow, size = { width: 1280, height: 800 }) {
  return newPage(browser, url, shotsDir, flow, { viewport: size, deviceScaleFactor: 1, acceptDownloads: true })
}

async function newPage(browser, url, shotsDir, flow, device) {
  const context = await browser.newContext({ baseURL: url, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...device })
  const page = await context.newPage()
  const errors = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`))
  let n = 0
  const dir = join(shotsDir, flow)
  mkdirSync(dir, { recursive: true })
  return {
    page,
    context,
    errors,
    async shot(name, { sizes = [], fullPage = true } = {}) {
      n++
      await page.waitForTimeout(150) // let toasts and transitions settle
      const base = device.viewport
      for (const [w, h] of [[base.width, base.height], ...sizes]) {
        if (w !== base.width) {
          await page.setViewportSize({ width: w, height: h })
          await page.waitForTimeout(300)
        }
        // Usable at this width: nothing may scroll sideways.
        const width = await page.evaluate(() => document.documentElement.scrollWidth)
        if (width > w) errors.push(`${name}: the page is ${width} px wide at a ${w} px viewport`)
        const suffix = w === base.width ? '' : `-${w}x${h}`
        await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${name}${suffix}.png`), fullPage: fullPage && w === base.width })
      }
      if (sizes.length) await page.setViewportSize(base)
    },
  }
}
