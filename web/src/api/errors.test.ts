import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CombinedError } from '@urql/core'
import { GraphQLError } from 'graphql'
import { errorMessages, toApiError, isUnauthenticated } from './errors'

const gqlErr = (code: string, message: string) =>
  new CombinedError({ graphQLErrors: [new GraphQLError(message, { extensions: { code } })] })

describe('error messages', () => {
  it('cover every error code the backend emits', () => {
    // Domain codes (errors.go) and the codes the GraphQL layer adds (gqlgen's
    // validation, parse and complexity errors, kept by the error presenter).
    const src = readFileSync(resolve(process.cwd(), '..', 'errors.go'), 'utf8') // vitest runs in web/
    const domain = [...src.matchAll(/^\s+E[A-Z]+\s+=\s+"([A-Z_]+)"/gm)].map((m) => m[1]!)
    expect(domain.length).toBeGreaterThanOrEqual(7)
    const gqlgen = ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'COMPLEXITY_LIMIT_EXCEEDED']
    for (const code of [...domain, ...gqlgen]) {
      expect(errorMessages[code], code).toMatch(/[\u4e00-\u9fff]/)
    }
  })

  it('prefer the server message of a domain error and name its field', () => {
    const e = toApiError(gqlErr('INVALID', '体温：应在 35.0 至 42.0 ℃ 之间，请重新测量'), { 体温: 'temperature' })
    expect(e).toEqual({ code: 'INVALID', message: '体温：应在 35.0 至 42.0 ℃ 之间，请重新测量', field: 'temperature' })
    const doc = toApiError(gqlErr('INVALID', '身份证号码校验位不正确，请核对'), { 身份证号码: 'docNumber' })
    expect(doc.field).toBe('docNumber')
  })

  it('never show internal or English text', () => {
    expect(toApiError(gqlErr('INTERNAL', 'pq: relation does not exist')).message).toBe(errorMessages.INTERNAL)
    expect(toApiError(gqlErr('GRAPHQL_VALIDATION_FAILED', 'Cannot query field "x"')).message).toBe(errorMessages.GRAPHQL_VALIDATION_FAILED)
    expect(toApiError(gqlErr('INVALID', 'must be defined')).message).toBe(errorMessages.INVALID)
  })

  it('tell a dead session and a dead network apart', () => {
    const unauth = new CombinedError({ networkError: new Error('401'), response: { status: 401 } })
    expect(toApiError(unauth).code).toBe('UNAUTHENTICATED')
    expect(isUnauthenticated(unauth)).toBe(true)
    expect(isUnauthenticated(gqlErr('UNAUTHENTICATED', '登录已失效，请重新登录'))).toBe(true)
    expect(isUnauthenticated(gqlErr('FORBIDDEN', '无权'))).toBe(false)
    expect(toApiError(new CombinedError({ networkError: new TypeError('Failed to fetch') })).code).toBe('NETWORK')
    expect(toApiError(gqlErr('RATE_LIMITED', '发送过于频繁，请稍后再试')).message).toBe('发送过于频繁，请稍后再试')
  })

  it('tell an outage (retry shortly) from an internal error', () => {
    expect(toApiError(gqlErr('UNAVAILABLE', '服务暂时不可用，请稍后重试'))).toEqual({ code: 'UNAVAILABLE', message: '服务暂时不可用，请稍后重试' })
    const down = new CombinedError({ networkError: new Error('503'), response: { status: 503 } })
    expect(toApiError(down).code).toBe('UNAVAILABLE')
  })
})
