// The scanner's service worker (/scan/sw.js, scope /scan/): keeps the app
// itself available offline. Built by the Vite plugin in vite.config.ts,
// which fills in the files of the scanner's build:
//   - on install, the page and every file its first screen and its lazy
//     screens need are cached (one cache per build);
//   - the QR decoder for browsers without BarcodeDetector (WebAssembly, about
//     1 MB) is fetched into the cache in the background after that, and on
//     first use;
//   - a navigation under /scan/ goes to the network and falls back to the
//     cached page; hashed files (/assets/) come from the cache first;
//   - everything else (the API, the key set, the revocation list) is left to
//     the page, which keeps its own copies in IndexedDB.
// On activation the caches of earlier builds are deleted.

declare const __PRECACHE__: string[]
declare const __LAZY__: string[]
declare const __VERSION__: string

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void
}
interface FetchEvent extends ExtendableEvent {
  request: Request
  respondWith(r: Promise<Response> | Response): void
}
interface SWGlobal {
  addEventListener(type: 'install' | 'activate', cb: (e: ExtendableEvent) => void): void
  addEventListener(type: 'fetch', cb: (e: FetchEvent) => void): void
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
  location: Location
}
const sw = self as unknown as SWGlobal

const CACHE = `hc-scan-${__VERSION__}`
const PAGE = '/scan/'
/** Files outside /assets/ the page loads. */
const STATIC = ['/favicon.svg']

sw.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll([PAGE, ...STATIC, ...__PRECACHE__]))
      .then(() => sw.skipWaiting()),
  )
})

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('hc-scan-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim())
      .then(() => {
        // Best effort: the decoder is also cached when first fetched.
        void caches.open(CACHE).then((c) => c.addAll(__LAZY__)).catch(() => {})
      }),
  )
})

async function fromCache(req: Request | string): Promise<Response | undefined> {
  return (await caches.open(CACHE)).match(req)
}

sw.addEventListener('fetch', (e) => {
  const req = e.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== sw.location.origin) return
  if (req.mode === 'navigate' && (url.pathname === '/scan' || url.pathname.startsWith('/scan/'))) {
    e.respondWith(
      fetch(req)
        .then(async (res) => {
          if (res.ok) await (await caches.open(CACHE)).put(PAGE, res.clone())
          return res
        })
        .catch(async () => (await fromCache(PAGE)) ?? Response.error()),
    )
    return
  }
  if (url.pathname.startsWith('/assets/') || STATIC.includes(url.pathname)) {
    e.respondWith(
      fromCache(req).then(
        (hit) =>
          hit ??
          fetch(req).then(async (res) => {
            if (res.ok) await (await caches.open(CACHE)).put(req, res.clone())
            return res
          }),
      ),
    )
  }
})
