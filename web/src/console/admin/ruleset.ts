// Rule sets in the console (docs/rules.md): the parsed body of a rule set,
// a clause-by-clause diff of two bodies, readable parameters, and the lines
// of the editor's text that the server's validation errors name.
import { t } from '@/locales/zh-CN.console'

export interface Clause {
  id: string
  colour: string
  citation: string
  quote?: string
  kind: string
  params: Record<string, unknown>
}

export interface RuleSetBody {
  version: string
  name?: string
  window: string
  clauses: Clause[]
}

/** Parses a rule set's JSON body; null when it is not a rule set object. */
export function parseBody(text: string): RuleSetBody | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null
  const o = v as Record<string, unknown>
  const clauses = Array.isArray(o.clauses) ? o.clauses : []
  return {
    version: String(o.version ?? ''),
    name: typeof o.name === 'string' ? o.name : undefined,
    window: String(o.window ?? ''),
    clauses: clauses
      .filter((c): c is Record<string, unknown> => !!c && typeof c === 'object')
      .map((c) => ({
        id: String(c.id ?? ''),
        colour: String(c.colour ?? ''),
        citation: String(c.citation ?? ''),
        quote: typeof c.quote === 'string' ? c.quote : undefined,
        kind: String(c.kind ?? ''),
        params: c.params && typeof c.params === 'object' ? (c.params as Record<string, unknown>) : {},
      })),
  }
}

/** One changed field of a clause: a property (colour, kind…) or a parameter (params.window…). */
export interface FieldChange {
  field: string
  /** undefined: absent on that side (a parameter added or removed). */
  before?: unknown
  after?: unknown
}

export type ClauseDiff =
  | { id: string; status: 'added'; clause: Clause }
  | { id: string; status: 'removed'; clause: Clause }
  | { id: string; status: 'changed'; clause: Clause; changes: FieldChange[]; moved: boolean }
  | { id: string; status: 'unchanged'; clause: Clause; moved: boolean }

export interface RuleSetDiff {
  /** The set's own fields that differ (name, window). */
  header: FieldChange[]
  clauses: ClauseDiff[]
  /** Whether anything but the version differs. */
  changed: boolean
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

/** JSON with object keys sorted, so that the order of keys does not count as a change. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v ?? null)
}

/**
 * Compares a rule set (after) with another (before, the one in force) clause
 * by clause, matched by id: clauses added and removed, and for a clause in
 * both, each property and each parameter that differs (parameters added,
 * removed or changed). The result follows after's order, removed clauses
 * after the others; moved says a clause changed its place in the evaluation
 * order among the clauses both sets have.
 */
export function diffRuleSets(before: RuleSetBody, after: RuleSetBody): RuleSetDiff {
  const header: FieldChange[] = []
  for (const f of ['name', 'window'] as const) {
    if (!same(before[f] ?? '', after[f] ?? '')) header.push({ field: f, before: before[f], after: after[f] })
  }
  const old = new Map(before.clauses.map((c) => [c.id, c]))
  const ids = new Set(after.clauses.map((c) => c.id))
  const commonBefore = before.clauses.filter((c) => ids.has(c.id)).map((c) => c.id)
  const commonAfter = after.clauses.filter((c) => old.has(c.id)).map((c) => c.id)
  const clauses: ClauseDiff[] = []
  for (const c of after.clauses) {
    const o = old.get(c.id)
    if (!o) {
      clauses.push({ id: c.id, status: 'added', clause: c })
      continue
    }
    const changes: FieldChange[] = []
    for (const f of ['colour', 'kind', 'citation', 'quote'] as const) {
      if (!same(o[f] ?? '', c[f] ?? '')) changes.push({ field: f, before: o[f], after: c[f] })
    }
    const keys = [...new Set([...Object.keys(o.params), ...Object.keys(c.params)])].sort()
    for (const k of keys) {
      if (!same(o.params[k], c.params[k])) changes.push({ field: `params.${k}`, before: o.params[k], after: c.params[k] })
    }
    const moved = commonBefore.indexOf(c.id) !== commonAfter.indexOf(c.id)
    clauses.push(changes.length ? { id: c.id, status: 'changed', clause: c, changes, moved } : { id: c.id, status: 'unchanged', clause: c, moved })
  }
  for (const c of before.clauses) if (!ids.has(c.id)) clauses.push({ id: c.id, status: 'removed', clause: c })
  const changed = header.length > 0 || clauses.some((d) => d.status !== 'unchanged' || d.moved)
  return { header, clauses, changed }
}

/** A parameter's value as text: lists joined with 、, durations and numbers as written. */
export function formatValue(v: unknown): string {
  if (v === undefined) return t.rules.absent
  if (Array.isArray(v)) return v.map((x) => t.rules.values[String(x)] ?? String(x)).join('、')
  if (typeof v === 'boolean') return v ? t.console.yes : t.console.no
  if (v && typeof v === 'object') return JSON.stringify(v)
  return t.rules.values[String(v)] ?? String(v)
}

/** A field of a clause (colour, params.window…) in Chinese. */
export function fieldLabel(field: string): string {
  const p = field.startsWith('params.') ? field.slice(7) : null
  if (p !== null) return t.rules.params[p] ?? p
  return t.rules.fields[field] ?? field
}

/** A clause's parameters as label–value pairs, in a reading order (levels, window; start before end…), unknown ones last. */
export function paramList(c: Clause): { label: string; value: string }[] {
  const order = Object.keys(t.rules.params)
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length)
  return Object.entries(c.params)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, v]) => ({ label: t.rules.params[k] ?? k, value: formatValue(v) }))
}

/** One problem the server (or the JSON parser) found, with the editor's line it concerns (1-based) when known. */
export interface Problem {
  message: string
  line?: number
  clause?: string
}

/** The 1-based line of a character offset of text. */
function lineOfOffset(text: string, offset: number): number {
  return text.slice(0, Math.max(0, offset)).split('\n').length
}

/** The 1-based line of a UTF-8 byte offset of text (the Go decoder counts bytes). */
function lineOfByte(text: string, bytes: number): number {
  const enc = new TextEncoder()
  let n = 0
  for (let i = 0; i < text.length; i++) {
    n += enc.encode(text[i]).length
    if (n >= bytes) return lineOfOffset(text, i)
  }
  return lineOfOffset(text, text.length)
}

/** The line where the clause with this id starts ("id": "R1"), if it is in text. */
function lineOfClause(text: string, id: string): number | undefined {
  const m = new RegExp(`"id"\\s*:\\s*${JSON.stringify(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).exec(text)
  return m ? lineOfOffset(text, m.index) : undefined
}

/** The line of the first occurrence of a top-level key ("version", "window"). */
function lineOfKey(text: string, key: string): number | undefined {
  const i = text.indexOf(`"${key}"`)
  return i >= 0 ? lineOfOffset(text, i) : undefined
}

/**
 * Splits the server's validation message (规则集无效：…；…) into its problems
 * and places each at the editor's line it names: a clause (规则R1…) at the line
 * of its id, the version or window at their key, a JSON syntax error at its
 * byte offset.
 */
export function locateProblems(text: string, message: string): Problem[] {
  const syntax = /第(\d+)字节处/.exec(message)
  if (syntax) return [{ message, line: lineOfByte(text, Number(syntax[1])) }]
  const body = message.replace(/^规则集无效：/, '')
  return body
    .split('；')
    .filter((m) => m.trim())
    .map((m) => {
      const clause = /规则编号"([^"]+)"/.exec(m)?.[1] ?? /规则([A-Za-z0-9_-]+)/.exec(m)?.[1]
      if (clause) return { message: m, clause, line: lineOfClause(text, clause) }
      if (m.includes('版本')) return { message: m, line: lineOfKey(text, 'version') }
      if (m.includes('窗口') || m.includes('时长')) return { message: m, line: lineOfKey(text, 'window') }
      const field = /字段(\S+?)(的|$)/.exec(m)?.[1]
      return { message: m, line: field ? lineOfKey(text, field.split('.').pop()!) : undefined }
    })
}

/** Checks the editor's text locally (JSON syntax only) before asking the server; null when it parses. */
export function syntaxProblem(text: string): Problem | null {
  try {
    JSON.parse(text)
    return null
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    const pos = /position (\d+)/.exec(msg)?.[1]
    const line = /line (\d+)/.exec(msg)?.[1]
    return {
      message: t.rules.syntax,
      line: line ? Number(line) : pos ? lineOfOffset(text, Number(pos)) : undefined,
    }
  }
}

/** The editor's starting text: the set in force, pretty-printed, under a new version to fill in. */
export function draftFrom(body: string, version: string): string {
  const o = JSON.parse(body) as Record<string, unknown>
  o.version = version
  return JSON.stringify(o, null, 2)
}
