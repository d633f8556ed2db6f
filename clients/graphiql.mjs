// GraphiQL in a real browser: headless Chromium opens /graphql, a query and a bearer
// `Authorization` header are entered through GraphiQL's editors, the run button is pressed,
// and the result pane is read back. A screenshot is written to the given path.
//
// The page loads GraphiQL, React and their styles from unpkg.com (pinned versions with
// Subresource Integrity). This machine has no internet, so those exact files are served to
// the browser from the same npm packages in node_modules; the integrity hashes still apply.
//
// Usage: node graphiql.mjs <graphql-url> <bearer-token> <screenshot.png>
// Prints {result} (the result pane's JSON); exits 1 on any failure.
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const QUERY = '{\n  viewer {\n    role\n    user { name }\n    organization { name }\n  }\n}\n';
const CDN = /^https:\/\/unpkg\.com\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.+)$/;
const TYPES = { js: 'application/javascript', css: 'text/css', map: 'application/json' };

const [url, token, screenshot] = process.argv.slice(2);
if (!url || !token || !screenshot) {
  console.error('usage: node graphiql.mjs <graphql-url> <token> <screenshot.png>');
  process.exit(2);
}

async function fromNodeModules(route) {
  const match = CDN.exec(route.request().url());
  if (!match) return route.abort();
  const [, name, version, path] = match;
  const root = new URL(`./node_modules/${name}/`, import.meta.url);
  const installed = JSON.parse(await readFile(new URL('package.json', root), 'utf8')).version;
  if (installed !== version) {
    console.error(`the page wants ${name}@${version}, node_modules has ${installed}`);
    return route.abort();
  }
  const body = await readFile(new URL(path, root));
  const type = TYPES[path.split('.').pop()] ?? 'application/octet-stream';
  return route.fulfill({
    status: 200,
    body,
    headers: { 'content-type': type, 'access-control-allow-origin': '*' },
  });
}

async function setEditor(page, selector, text) {
  await page.locator(`${selector} .CodeMirror >> visible=true`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
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
  const page = await context.newPage();
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, fromNodeModules);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  await setEditor(page, '.graphiql-query-editor', QUERY);
  await page.getByRole('button', { name: 'Headers' }).click();
  await setEditor(
    page,
    '.graphiql-editor-tool',
    JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
  );
  const response = page.waitForResponse(
    (r) => r.url().startsWith(url) && r.request().method() === 'POST' &&
      (r.request().postData() ?? '').includes('organization'),
  );
  await page.click('.graphiql-execute-button');
  await response;
  const resultPane = page.locator('.result-window .CodeMirror');
  await resultPane.getByText('"role"').waitFor();
  const result = JSON.parse(
    await page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()),
  );
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ result }));
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
