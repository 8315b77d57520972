// Error display: every error code the backend emits (errors.go, the GraphQL
// error presenter in graph/handler.go, gqlgen's own codes) maps to a Chinese
// message; a domain error's own message (already Chinese, "字段：说明") is
// preferred, and its field label is mapped back to the form field it names.
import type { CombinedError } from '@urql/core'
import { t } from '@/locales/zh-CN'

/** The Chinese message of each error code, used when the server's message cannot be shown. */
export const errorMessages: Record<string, string> = {
  INVALID: t.errors.INVALID,
  NOT_FOUND: t.errors.NOT_FOUND,
  CONFLICT: t.errors.CONFLICT,
  FORBIDDEN: t.errors.FORBIDDEN,
  UNAUTHENTICATED: t.errors.UNAUTHENTICATED,
  RATE_LIMITED: t.errors.RATE_LIMITED,
  INTERNAL: t.errors.INTERNAL,
  UNAVAILABLE: t.errors.UNAVAILABLE,
  OVERLOADED: t.errors.OVERLOADED,
  GRAPHQL_VALIDATION_FAILED: t.errors.GRAPHQL_VALIDATION_FAILED,
  GRAPHQL_PARSE_FAILED: t.errors.GRAPHQL_PARSE_FAILED,
  COMPLEXITY_LIMIT_EXCEEDED: t.errors.COMPLEXITY_LIMIT_EXCEEDED,
  PERSISTED_QUERY_NOT_FOUND: t.errors.GRAPHQL_VALIDATION_FAILED,
  NETWORK: t.errors.NETWORK,
}

/** Codes whose server message is written for the user (in Chinese). */
const userFacing = new Set(['INVALID', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN', 'UNAUTHENTICATED', 'RATE_LIMITED', 'OVERLOADED'])

export interface ApiError {
  code: string
  message: string
  /** The form field the error names, when the form passed its labels. */
  field?: string
}

const hasChinese = /[\u4e00-\u9fff]/

/**
 * Turns an urql error (or anything thrown) into a code and a Chinese message.
 * fields maps the Chinese labels the server starts its messages with ("姓名",
 * "体温", "身份证号码") to form field names, so that "体温：应在 35.0 至 42.0 ℃
 * 之间" marks the temperature field.
 */
export function toApiError(err: CombinedError | Error | unknown, fields: Record<string, string> = {}): ApiError {
  const ce = err as Partial<CombinedError> | undefined
  const gql = ce?.graphQLErrors?.[0]
  if (gql) {
    const code = typeof gql.extensions?.code === 'string' ? gql.extensions.code : 'INTERNAL'
    let message = errorMessages[code] ?? errorMessages.INTERNAL!
    if (userFacing.has(code) && gql.message && hasChinese.test(gql.message)) message = gql.message
    const out: ApiError = { code, message }
    const label = Object.keys(fields).find((l) => message.startsWith(l))
    if (label) out.field = fields[label]
    return out
  }
  const status = (ce?.response as Response | undefined)?.status
  if (status === 401) return { code: 'UNAUTHENTICATED', message: errorMessages.UNAUTHENTICATED! }
  if (status === 413) return { code: 'INVALID', message: t.errors.TOO_LARGE }
  if (status === 503) return { code: 'UNAVAILABLE', message: errorMessages.UNAVAILABLE! }
  if (ce?.networkError || status) return { code: 'NETWORK', message: errorMessages.NETWORK! }
  return { code: 'INTERNAL', message: errorMessages.INTERNAL! }
}

/** The message alone, for toasts. */
export function errorText(err: unknown, fields?: Record<string, string>): string {
  return toApiError(err, fields).message
}

/** Whether the error means the session is over (expired, revoked, logged out elsewhere). */
export function isUnauthenticated(err: CombinedError | undefined): boolean {
  if (!err) return false
  if ((err.response as Response | undefined)?.status === 401) return true
  return err.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')
}
