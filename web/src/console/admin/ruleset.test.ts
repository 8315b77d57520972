import { describe, expect, it } from 'vitest'
import { diffRuleSets, draftFrom, formatValue, locateProblems, paramList, parseBody, syntaxProblem, type RuleSetBody } from './ruleset'

const inForce: RuleSetBody = {
  version: 'v1',
  name: '附件1',
  window: '14d',
  clauses: [
    { id: 'R1', colour: 'RED', citation: '附件1 一(一)', kind: 'stay_risk', params: { levels: ['HIGH', 'ABROAD'] } },
    { id: 'R5', colour: 'RED', citation: '附件1 一(一)', kind: 'close_contact', params: {} },
    { id: 'Y2', colour: 'YELLOW', citation: '附件1 一(二)', kind: 'abnormal_health', params: { threshold: 37.3, symptoms: ['fever', 'cough'], normalDays: 14 } },
    { id: 'Y4', colour: 'YELLOW', citation: '附件1 一(二)', kind: 'designation', params: { colour: 'YELLOW' } },
  ],
}

function edit(f: (b: RuleSetBody) => void): RuleSetBody {
  const b = JSON.parse(JSON.stringify(inForce)) as RuleSetBody
  b.version = 'v2'
  f(b)
  return b
}

describe('diffRuleSets', () => {
  it('finds nothing but the version in an unchanged copy, whatever the order of keys', () => {
    const copy = edit((b) => {
      b.clauses[2]!.params = { normalDays: 14, symptoms: ['fever', 'cough'], threshold: 37.3 }
    })
    const d = diffRuleSets(inForce, copy)
    expect(d.changed).toBe(false)
    expect(d.header).toEqual([])
    expect(d.clauses.map((c) => c.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged'])
  })

  it('reports parameters added, removed and changed, clause by clause', () => {
    const next = edit((b) => {
      b.window = '7d'
      b.clauses[0]!.params.levels = ['HIGH', 'MEDIUM', 'ABROAD']
      b.clauses[1]!.params.window = '10d'
      delete b.clauses[2]!.params.normalDays
      b.clauses[2]!.params.threshold = 37.5
      b.clauses[3]!.citation = '附件1 一(二)、六'
    })
    const d = diffRuleSets(inForce, next)
    expect(d.changed).toBe(true)
    expect(d.header).toEqual([{ field: 'window', before: '14d', after: '7d' }])
    const byId = Object.fromEntries(d.clauses.map((c) => [c.id, c]))
    expect(byId.R1).toMatchObject({ status: 'changed', changes: [{ field: 'params.levels', before: ['HIGH', 'ABROAD'], after: ['HIGH', 'MEDIUM', 'ABROAD'] }] })
    expect(byId.R5).toMatchObject({ status: 'changed', changes: [{ field: 'params.window', before: undefined, after: '10d' }] })
    expect(byId.Y2).toMatchObject({
      status: 'changed',
      changes: [
        { field: 'params.normalDays', before: 14, after: undefined },
        { field: 'params.threshold', before: 37.3, after: 37.5 },
      ],
    })
    expect(byId.Y4).toMatchObject({ status: 'changed', changes: [{ field: 'citation' }] })
  })

  it('reports clauses added, removed, recoloured and moved', () => {
    const next = edit((b) => {
      const [r1, r5, y2] = b.clauses
      b.clauses = [r5!, r1!, { ...y2!, colour: 'RED' }, { id: 'Y9', colour: 'YELLOW', citation: '附件1 六', kind: 'designation', params: { colour: 'YELLOW', needsApproval: true } }]
    })
    const d = diffRuleSets(inForce, next)
    expect(d.clauses.map((c) => [c.id, c.status])).toEqual([['R5', 'unchanged'], ['R1', 'unchanged'], ['Y2', 'changed'], ['Y9', 'added'], ['Y4', 'removed']])
    expect(d.clauses[0]).toMatchObject({ moved: true })
    expect(d.clauses[2]).toMatchObject({ changes: [{ field: 'colour', before: 'YELLOW', after: 'RED' }], moved: false })
    expect(d.changed).toBe(true)
  })
})

describe('the editor', () => {
  const text = draftFrom(JSON.stringify(inForce), '')

  it('starts from the set in force under an empty version', () => {
    expect(parseBody(text)).toMatchObject({ version: '', window: '14d', clauses: inForce.clauses })
    expect(text.split('\n').length).toBeGreaterThan(20)
  })

  it('places each problem of the server at the line of the clause or key it names', () => {
    const lines = text.split('\n')
    const r5 = lines.findIndex((l) => l.includes('"R5"')) + 1
    const version = lines.findIndex((l) => l.includes('"version"')) + 1
    const problems = locateProblems(text, '规则集无效：规则集版本号不能为空；规则R5的颜色"GREEN"无效，只能是RED或YELLOW；规则编号"Y2"重复')
    expect(problems).toEqual([
      { message: '规则集版本号不能为空', line: version },
      { message: '规则R5的颜色"GREEN"无效，只能是RED或YELLOW', clause: 'R5', line: r5 },
      { message: '规则编号"Y2"重复', clause: 'Y2', line: lines.findIndex((l) => l.includes('"Y2"')) + 1 },
    ])
  })

  it('places a JSON syntax error at its line, counting bytes as the server does', () => {
    const bad = '{\n  "name": "陕西",\n  "window": 14d\n}'
    const offset = new TextEncoder().encode(bad.slice(0, bad.indexOf('14d'))).length + 1
    expect(locateProblems(bad, `规则集JSON格式错误：第${offset}字节处语法错误`)[0]!.line).toBe(3)
    expect(syntaxProblem(bad)).toMatchObject({ line: 3 })
    expect(syntaxProblem(text)).toBeNull()
  })

  it('writes parameters in Chinese, the start event before the end', () => {
    expect(paramList({ id: 'R2', colour: 'RED', citation: '', kind: 'medical_open', params: { end: ['DISCHARGED'], start: 'CONFIRMED' } }))
      .toEqual([{ label: '起始事件', value: '确诊' }, { label: '结束事件', value: '出院' }])
    expect(formatValue(['HIGH', 'ABROAD'])).toBe('高风险、境外')
    expect(formatValue(undefined)).toBe('（未设）')
    expect(formatValue(37.3)).toBe('37.3')
  })
})
