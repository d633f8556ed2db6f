// A real graphql-ws client receives a live messageEvents event for a message posted over HTTP.
// Usage: node subscription.mjs <graphql-url> <subscriber-token> <poster-token> <conversation-id>
// Prints one JSON object {event, posted}; exits 1 if no event arrives.
//
// The protocol has no acknowledgement that a subscription is live on the server, so the
// message is posted once the server's /healthz counts one more registered subscription
// (`liveFeed.subscriptionsStarted`), as the Python live-feed tests do.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { documentText } from './documents.mjs';

const GUARD_MS = 30_000;
const POLL_MS = 20;

const [url, subscriberToken, posterToken, conversationId] = process.argv.slice(2);
if (!url || !subscriberToken || !posterToken || !conversationId) {
  console.error('usage: node subscription.mjs <graphql-url> <subscriber> <poster> <conversation>');
  process.exit(2);
}

const client = createClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${subscriberToken}` },
  retryAttempts: 0,
});

async function subscriptionsStarted() {
  const response = await fetch(new URL('/healthz', url));
  return (await response.json()).liveFeed.subscriptionsStarted;
}

async function untilSubscribed(count) {
  const deadline = Date.now() + GUARD_MS;
  while ((await subscriptionsStarted()) < count) {
    if (Date.now() > deadline) throw new Error('the server never registered the subscription');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function firstEvent() {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event arrived')), GUARD_MS);
    client.subscribe(
      { query: documentText('message-events'), variables: { conversationId } },
      {
        next: (result) => {
          clearTimeout(timer);
          if (result.errors) reject(new Error(JSON.stringify(result.errors)));
          else resolve(result.data.messageEvents);
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => reject(new Error('the subscription completed without an event')),
      },
    );
  });
}

async function post(content) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${posterToken}`,
    },
    body: JSON.stringify({
      query: documentText('post-message'),
      variables: { input: { conversationId, content } },
    }),
  });
  const body = await response.json();
  if (body.errors || body.data.postMessage.errors.length) {
    throw new Error(`postMessage failed: ${JSON.stringify(body)}`);
  }
  return body.data.postMessage.message;
}

try {
  const before = await subscriptionsStarted();
  const event = firstEvent();
  await untilSubscribed(before + 1);
  const posted = await post('live message');
  console.log(JSON.stringify({ event: await event, posted }));
  await client.dispose();
} catch (error) {
  console.error(error);
  await client.dispose();
  process.exitCode = 1;
}
