// Reads the rows of the first worksheet of an .xlsx file with Node alone: the
// zip's central directory, inflateRaw, and the sheet's cells (shared strings,
// inline strings and numbers). Enough for a test to check a row of the
// ranking report (排名通报) the console downloads.
import { inflateRawSync } from 'node:zlib'

function entries(buf) {
  let eocd = buf.length - 22
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--
  if (eocd < 0) throw new Error('not a zip file')
  const count = buf.readUInt16LE(eocd + 10)
  let p = buf.readUInt32LE(eocd + 16)
  const out = new Map()
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10)
    const size = buf.readUInt32LE(p + 20)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    const local = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen)
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28)
    const raw = buf.subarray(dataAt, dataAt + size)
    out.set(name, method === 8 ? inflateRawSync(raw) : raw)
    p += 46 + nameLen + extraLen + commentLen
  }
  return out
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
const texts = (xml) => [...xml.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((m) => unescape(m[1])).join('')

/** The first sheet's rows as arrays of cell texts (numbers as written). */
export function readSheet(buf) {
  const files = entries(buf)
  const shared = []
  const ss = files.get('xl/sharedStrings.xml')?.toString('utf8') ?? ''
  for (const m of ss.matchAll(/<si>([\s\S]*?)<\/si>/g)) shared.push(texts(m[1]))
  const name = [...files.keys()].filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n)).sort()[0]
  const xml = files.get(name).toString('utf8')
  const rows = []
  for (const r of xml.matchAll(/<row[^>]*>([\s\S]*?)<\/row>/g)) {
    const row = []
    for (const c of r[1].matchAll(/<c([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const attrs = c[1]
      const body = c[2] ?? ''
      const col = /r="([A-Z]+)\d+"/.exec(attrs)?.[1] ?? ''
      const index = [...col].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1
      const type = /t="([^"]+)"/.exec(attrs)?.[1]
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1]
      row[index] = type === 's' ? shared[Number(v)] ?? '' : type === 'inlineStr' ? texts(body) : v !== undefined ? unescape(v) : ''
    }
    rows.push(Array.from(row, (x) => x ?? ''))
  }
  return rows
}
