// GraphQL Code Generator: typed documents from the server's schema
// (../graph/schema/*.graphqls) and the operations in src/**/*.graphql.
// `npm run generate` (and `make generate`) writes src/api/generated/ and
// src/console/generated/ and src/scan/generated/; `make lint` regenerates them and fails when the
// committed copies differ. The console's operations get their own module so
// that the resident pages, which share chunks with the console, never load
// the console's documents.
import type { CodegenConfig } from '@graphql-codegen/cli'

/** Operations only the staff console runs (console-only operations live in these files). */
const consoleOperations = [
  'src/api/operations/console.graphql',
  'src/api/operations/supervision.graphql',
  'src/api/operations/community.graphql',
  'src/api/operations/admin.graphql',
  'src/api/operations/staff.graphql',
]
/** Operations only the scanner runs. */
const scanOperations = ['src/api/operations/scan.graphql']

const target = {
  preset: 'client' as const,
  presetConfig: { fragmentMasking: false },
  config: {
    scalars: { Time: 'string', Date: 'string', JSON: 'Record<string, unknown>', ID: 'string' },
    enumsAsTypes: true,
    useTypeImports: true,
    avoidOptionals: { field: true, inputValue: false, object: true },
    defaultScalarType: 'unknown',
    skipTypename: true,
  },
}

const config: CodegenConfig = {
  schema: '../graph/schema/*.graphqls',
  ignoreNoDocuments: true,
  generates: {
    'src/api/generated/': { ...target, documents: ['src/**/*.graphql', ...[...consoleOperations, ...scanOperations].map((f) => `!${f}`)] },
    'src/console/generated/': { ...target, documents: consoleOperations },
    'src/scan/generated/': { ...target, documents: scanOperations },
  },
  hooks: {},
}

export default config
