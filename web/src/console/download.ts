// Downloads that need the session: the ranking report files answer GET with
// the same bearer token as the API (server/rankings.go), which a plain link
// cannot send; the file is fetched and handed to the browser.
import { errorMessages } from '@/api/errors'
import { session } from './context'

async function fetchFile(url: string): Promise<Blob> {
  const token = session.token()
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
  if (res.status === 401) session.end('expired')
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { errors?: { message?: string }[] } | null
    throw new Error(body?.errors?.[0]?.message ?? errorMessages.INTERNAL)
  }
  return res.blob()
}

/** Saves the file at url under name. */
export async function downloadFile(url: string, name: string): Promise<void> {
  const blob = await fetchFile(url)
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
}

/** Opens the printable page at url in a new tab. */
export async function openPrintable(url: string): Promise<void> {
  const win = window.open('', '_blank')
  const blob = await fetchFile(url)
  const href = URL.createObjectURL(new Blob([blob], { type: 'text/html' }))
  if (win) win.location.href = href
  else window.location.href = href
}
