// GraphQL Code Generator: typed documents from the server's schema
// (../graph/schema/*.graphqls) and the operations in src/**/*.graphql.
// `npm run generate` (and `make generate`) writes src/api/generated/;
// `make lint` regenerates it and fails when the committed copy differs.
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../graph/schema/*.graphqls',
  documents: ['src/**/*.graphql'],
  ignoreNoDocuments: true,
  generates: {
    'src/api/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { Time: 'string', Date: 'string', JSON: 'Record<string, unknown>', ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        defaultScalarType: 'unknown',
        skipTypename: true,
      },
    },
  },
  hooks: {},
}

export default config
