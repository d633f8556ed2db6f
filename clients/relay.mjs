// Relay: relay-compiler validates the served schema (relay/schema.graphql, exported by the
// test) and the Relay documents in relay/src, then the refetch query Relay generated for
// paging a thread through `Query.node` runs against the server.
// Usage: node relay.mjs <graphql-url> <bearer-token> <conversation-id>
// Prints one JSON object {artifacts, refetch}; exits 1 on a compiler or execution error.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [url, token, conversationId] = process.argv.slice(2);
if (!url || !token || !conversationId) {
  console.error('usage: node relay.mjs <graphql-url> <token> <conversation-id>');
  process.exit(2);
}
const here = fileURLToPath(new URL('.', import.meta.url));
const generated = `${here}relay/__generated__`;
mkdirSync(generated, { recursive: true });

const compiler = spawnSync(`${here}node_modules/.bin/relay-compiler`, ['relay.config.json'], {
  cwd: here,
  encoding: 'utf8',
});
if (compiler.status !== 0) {
  console.error(compiler.stdout, compiler.stderr);
  process.exit(1);
}

const artifacts = readdirSync(generated).filter((name) => name.endsWith('.graphql.js')).sort();
const { default: refetch } = await import(`${generated}/ThreadMessagesPaginationQuery.graphql.js`);
const response = await fetch(url, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    authorization: `Bearer ${token}`,
  },
  body: JSON.stringify({
    query: refetch.params.text,
    operationName: refetch.params.name,
    variables: { id: conversationId, count: 2 },
  }),
});
const body = await response.json();
if (response.status !== 200 || body.errors) {
  console.error(response.status, JSON.stringify(body));
  process.exit(1);
}
console.log(JSON.stringify({ artifacts, refetch: body.data }));
