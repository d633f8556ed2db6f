// GraphQL over HTTP conformance: graphql-http's server audit against a running server.
// Usage: node audit.mjs <graphql-url>
// Prints one JSON line {"total": n, "passed": n, "failures": [...]} and exits 1 on any failure.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql-url>');
  process.exit(2);
}

const results = await auditServer({ url });
const failures = [];
for (const result of results) {
  if (result.status === 'ok') continue;
  failures.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.reason,
    httpStatus: result.response.status,
    contentType: result.response.headers.get('content-type'),
  });
}
console.log(
  JSON.stringify({ total: results.length, passed: results.length - failures.length, failures }),
);
process.exit(failures.length === 0 ? 0 : 1);
