// A real SPA client: Apollo Client with its normalized cache loads the dashboard, then pages
// a thread with fetchMore and a Relay-style field policy; a second client fetches the
// dashboard as the mobile app does, by hash over GET (automatic persisted queries).
// Usage: node apollo.mjs spa <graphql-url> <bearer-token> <conversation-id> <page-size>
//        node apollo.mjs mobile <graphql-url> <bearer-token>
// Prints one JSON object with what the client received; exits 1 on any client error.
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { filter, firstValueFrom } from 'rxjs';
import { document } from './documents.mjs';

const [mode, url, token, conversationId, pageSize] = process.argv.slice(2);
if (!url || !token || !(mode === 'mobile' || (mode === 'spa' && conversationId && pageSize))) {
  console.error('usage: node apollo.mjs spa|mobile <graphql-url> <token> [<conversation> <size>]');
  process.exit(2);
}

function cache() {
  return new InMemoryCache({
    typePolicies: {
      Query: { fields: { engagements: relayStylePagination(['status', 'clientId']) } },
      Conversation: { fields: { messages: relayStylePagination() } },
    },
  });
}

function httpLink(fetchImpl = fetch) {
  return new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` }, fetch: fetchImpl });
}

async function spa() {
  const client = new ApolloClient({ link: httpLink(), cache: cache() });
  const dashboard = await client.query({ query: document('dashboard') });
  const thread = client.watchQuery({
    query: document('thread'),
    variables: { id: conversationId, first: Number(pageSize) },
  });
  const complete = (result) => result.dataState === 'complete' && !result.loading;
  let current = await firstValueFrom(thread.pipe(filter(complete)));
  let pages = 1;
  while (current.data.conversation.messages.pageInfo.hasNextPage) {
    const after = current.data.conversation.messages.pageInfo.endCursor;
    await thread.fetchMore({ variables: { after } });
    current = thread.getCurrentResult();
    pages += 1;
  }
  const messages = current.data.conversation.messages;
  const normalized = client.cache.extract();
  const conversationKey = `Conversation:${conversationId}`;
  return {
    dashboard: {
      role: dashboard.data.viewer.role,
      engagements: dashboard.data.engagements.edges.map((edge) => edge.node.name),
      conversations: dashboard.data.engagements.edges.flatMap((edge) =>
        edge.node.conversations.edges.map((c) => c.node.id),
      ),
    },
    thread: {
      pages,
      totalCount: messages.totalCount,
      contents: messages.edges.map((edge) => edge.node.content),
      subject: current.data.conversation.subject,
    },
    cache: {
      conversationNormalized: conversationKey in normalized,
      messageEntities: Object.keys(normalized).filter((key) => key.startsWith('Message:')).length,
    },
  };
}

async function mobile() {
  const requests = [];
  const recordingFetch = (input, init) => {
    const target = new URL(typeof input === 'string' ? input : input.url);
    requests.push({ method: init?.method ?? 'GET', hasQuery: target.searchParams.has('query') || /"query"/.test(init?.body ?? '') });
    return fetch(input, init);
  };
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const link = ApolloLink.from([
    new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
    httpLink(recordingFetch),
  ]);
  const results = [];
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const client = new ApolloClient({ link, cache: cache() });
    const { data } = await client.query({ query: document('dashboard'), fetchPolicy: 'network-only' });
    results.push(data.viewer.role);
  }
  return { requests, roles: results };
}

try {
  console.log(JSON.stringify(mode === 'spa' ? await spa() : await mobile()));
} catch (error) {
  console.error(error);
  process.exit(1);
}
