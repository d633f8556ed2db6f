// A stand-in for relay-runtime's `graphql` tag: these modules are only compiled (validated)
// by relay-compiler, never run.
export const graphql = (strings) => strings.join('');
