// A urql client whose answers come from handlers keyed by operation name, for
// component tests (no server).
import { Client, makeResult, type Exchange, type Operation } from '@urql/core'
import { filter, fromValue, mergeMap, pipe } from 'wonka'

export type Answer = Record<string, unknown> | { errors: { message: string; extensions: { code: string } }[] }
export type Handlers = Record<string, (variables: Record<string, unknown>) => Answer>

function nameOf(op: Operation): string {
  const defs = 'definitions' in op.query ? op.query.definitions : []
  for (const d of defs) if (d.kind === 'OperationDefinition' && d.name) return d.name.value
  return ''
}

export function mockClient(handlers: Handlers) {
  const calls: { name: string; variables: Record<string, unknown> }[] = []
  const exchange: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind !== 'teardown'),
      mergeMap((op) => {
        const name = nameOf(op)
        const variables = (op.variables ?? {}) as Record<string, unknown>
        calls.push({ name, variables })
        const h = handlers[name]
        const answer: Answer = h ? h(variables) : { errors: [{ message: `no handler for ${name}`, extensions: { code: 'INTERNAL' } }] }
        if ('errors' in answer && Array.isArray(answer.errors)) {
          return fromValue(makeResult(op, { data: null, errors: answer.errors }))
        }
        return fromValue(makeResult(op, { data: answer }))
      }),
    )
  const client = new Client({ url: '/graphql', exchanges: [exchange] })
  return { client, calls }
}

export const gqlError = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] })
