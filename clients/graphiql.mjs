// GraphiQL in a real browser, with the network cut: headless Chromium may reach only the
// server under test (every other request is aborted and reported). It opens /graphql, reads
// the headers editor's initial text, enters the bearer token, runs a query, then runs a
// subscription, posts a message through the API once the server has registered it, and
// reads the event back from the result pane. A screenshot is written to the given path.
//
// Usage: node graphiql.mjs <graphql-url> <bearer-token> <conversation-id> <screenshot.png>
// Prints {initialHeaders, query, event, blocked, explorer}; exits 1 on any failure.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const QUERY = '{\n  viewer {\n    role\n    user { name }\n    organization { name }\n  }\n}\n';
const SUBSCRIPTION =
  'subscription Feed($id: ID!) {\n  messageEvents(conversationId: $id) {\n' +
  '    kind\n    message { content }\n  }\n}\n';
const POST = `mutation Post($input: PostMessageInput!) {
  postMessage(input: $input) { message { id } errors { code message } }
}`;
const GUARD_MS = 30_000;

const [url, token, conversationId, screenshot] = process.argv.slice(2);
if (!url || !token || !conversationId || !screenshot) {
  console.error('usage: node graphiql.mjs <graphql-url> <token> <conversation-id> <screenshot.png>');
  process.exit(2);
}
const origin = new URL(url).origin;

async function subscriptionsStarted() {
  const body = await (await fetch(`${origin}/healthz`)).json();
  return body.liveFeed.subscriptionsStarted;
}

async function setEditor(page, selector, text) {
  await page.locator(`${selector} .CodeMirror >> visible=true`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

async function editorText(page, selector) {
  return page.evaluate(
    (s) => document.querySelector(`${s} .graphiql-editor:not(.hidden) .CodeMirror`).CodeMirror.getValue(),
    selector,
  );
}

async function resultText(page) {
  return page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const blocked = [];
  await context.route((requested) => requested.origin !== origin, (route) => {
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(GUARD_MS);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');

  // The headers editor is open from the start, with the bearer header to complete.
  const initialHeaders = await editorText(page, '.graphiql-editor-tool');
  await setEditor(page, '.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));

  await setEditor(page, '.graphiql-query-editor', QUERY);
  const answered = page.waitForResponse(
    (r) => r.url() === url && r.request().method() === 'POST' &&
      (r.request().postData() ?? '').includes('organization'),
  );
  await page.click('.graphiql-execute-button');
  await answered;
  await page.locator('.result-window .CodeMirror').getByText('"role"').waitFor();
  const query = JSON.parse(await resultText(page));

  // The subscription runs over the WebSocket; the message is posted once the server counts it.
  const before = await subscriptionsStarted();
  await setEditor(page, '.graphiql-query-editor', SUBSCRIPTION);
  await page.getByRole('button', { name: 'Variables' }).click();
  await setEditor(page, '.graphiql-editor-tool', JSON.stringify({ id: conversationId }));
  await page.click('.graphiql-execute-button');
  const deadline = Date.now() + GUARD_MS;
  while ((await subscriptionsStarted()) <= before) {
    if (Date.now() > deadline) throw new Error('the subscription never reached the server');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const posted = await (await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: POST,
      variables: { input: { conversationId, content: 'Hello from GraphiQL' } },
    }),
  })).json();
  if (posted.errors || posted.data.postMessage.errors.length) throw new Error(JSON.stringify(posted));
  await page.locator('.result-window .CodeMirror').getByText('POSTED').waitFor();
  const event = JSON.parse(await resultText(page));

  const explorerButton = page.getByRole('button', { name: 'Show GraphiQL Explorer' });
  const explorer = (await explorerButton.count()) > 0;
  if (explorer) await explorerButton.click();
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ initialHeaders, query, event, blocked, explorer }));
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
