// GraphQL Code Generator: TypeScript types for the client documents (documents/*.graphql)
// from an exported schema, then a strict TypeScript compile of the generated file.
// Usage: node codegen.mjs <schema.graphql>
// Writes codegen/operations.ts; prints {types}; exits 1 if generation or compilation fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';

const [schema] = process.argv.slice(2);
if (!schema) {
  console.error('usage: node codegen.mjs <schema.graphql>');
  process.exit(2);
}
const here = fileURLToPath(new URL('.', import.meta.url));
const output = `${here}codegen/operations.ts`;

try {
  await generate(
    {
      schema,
      documents: `${here}documents/*.graphql`,
      generates: {
        [output]: {
          plugins: ['typescript', 'typescript-operations'],
          config: { scalars: { DateTime: 'string' }, enumsAsTypes: true, strictScalars: true },
        },
      },
      silent: true,
      errorsOnly: true,
    },
    true,
  );
} catch (error) {
  console.error(error.message ?? error);
  process.exit(1);
}

const tsc = spawnSync(
  `${here}node_modules/.bin/tsc`,
  ['--noEmit', '--strict', '--target', 'es2022', '--skipLibCheck', output],
  { encoding: 'utf8' },
);
if (tsc.status !== 0) {
  console.error(tsc.stdout, tsc.stderr);
  process.exit(1);
}
const types = [...readFileSync(output, 'utf8').matchAll(/^export type (\w+)/gm)].map((m) => m[1]);
console.log(JSON.stringify({ types }));
