// A real graphql-ws client receives a live messageEvents event for a message posted over HTTP.
// Usage: node subscription.mjs <graphql-url> <subscriber-token> <poster-token> <conversation-id>
// Prints one JSON object {event, posted, attempts}; exits 1 if no event arrives.
//
// The protocol has no acknowledgement that a subscription is live on the server, so the
// poster posts again (at most MAX_ATTEMPTS times, RETRY_MS apart) until the first event
// arrives; the event must be one of the posted messages.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { documentText } from './documents.mjs';

const MAX_ATTEMPTS = 10;
const RETRY_MS = 500;

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

function firstEvent() {
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query: documentText('message-events'), variables: { conversationId } },
      {
        next: (result) => (result.errors ? reject(new Error(JSON.stringify(result.errors))) : resolve(result.data.messageEvents)),
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
  const event = firstEvent();
  const posted = [];
  let received = null;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && !received; attempt += 1) {
    posted.push(await post(`live message ${attempt}`));
    received = await Promise.race([
      event,
      new Promise((resolve) => setTimeout(() => resolve(null), RETRY_MS)),
    ]);
  }
  if (!received) throw new Error(`no event after ${posted.length} messages`);
  console.log(JSON.stringify({ event: received, posted, attempts: posted.length }));
  await client.dispose();
  process.exit(0);
} catch (error) {
  console.error(error);
  await client.dispose();
  process.exit(1);
}
