// A web page stored in OSS must not run in the console's origin. OSS and the console share
// rolestack's scheme, host and port, so a stored HTML page opened by a signed-in person could read
// the console's session (its CSRF token) and call the console as that person. OSS's default domain
// forces such pages to download (docs/oss.md, "Objects served to browsers"); this opens one, as the
// account root signed in to the console would, in a real Chromium, and checks nothing ran.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const support = require('./support');

const { launchChromium, removeProfiles, startServer } = support;

let server;
const BUCKET = `pages-${Date.now().toString(36)}`;
const VICTIM_USER = 'made-by-a-stored-page';

// The page a writer of the bucket stores: with the console's session it creates a RAM user.
const PAGE = `<html><body><h1>report</h1><script>
fetch('/console/api/session').then((r) => r.json()).then((s) => fetch('/console/api/ram/CreateUser', {
  method: 'POST', headers: { 'X-CSRF-Token': s.CsrfToken, 'Content-Type': 'application/json' },
  body: JSON.stringify({ UserName: '${VICTIM_USER}' }) })).then(() => { document.title = 'ran'; });
</script></body></html>`;

before(async () => {
  server = await startServer('rolestack-oss-pages-');
  const made = await support.ossAsRoot(server, 'PUT', `/${BUCKET}/`, { headers: { 'x-oss-acl': 'public-read' } });
  assert.equal(made.status, 200, await made.text());
  for (const [key, type] of [['report.html', 'text/html'], ['drawing.svg', 'image/svg+xml']]) {
    const body = type === 'text/html' ? PAGE : `<svg xmlns="http://www.w3.org/2000/svg"><script>${PAGE.match(/<script>([\s\S]*)<\/script>/)[1]}</script></svg>`;
    const put = await support.ossAsRoot(server, 'PUT', `/${BUCKET}/${key}`, { body, contentType: type });
    assert.equal(put.status, 200, await put.text());
  }
});

after(() => {
  server?.stop();
  removeProfiles();
});

test('a stored page opened by a signed-in person downloads instead of running', async () => {
  const context = await launchChromium({ acceptDownloads: true });
  try {
    const page = context.pages()[0] || await context.newPage();
    const { endpoint, rootKey } = server;
    await page.goto(`${endpoint}/console/`);
    await page.getByLabel('AccessKey ID').fill(rootKey.AccessKeyId);
    await page.getByLabel('AccessKey secret').fill(rootKey.AccessKeySecret);
    await page.getByRole('button', { name: 'Sign in as account root' }).click();
    await page.waitForURL(/\/console\/#\/ram\/roles$/);

    for (const key of ['report.html', 'drawing.svg']) {
      const head = await fetch(`${endpoint}/${BUCKET}/${key}`, { method: 'HEAD' });
      assert.equal(head.headers.get('content-disposition'), 'attachment', key);
      assert.equal(head.headers.get('x-oss-force-download'), 'true', key);
      const tab = await context.newPage();
      const download = tab.waitForEvent('download');
      await tab.goto(`${endpoint}/${BUCKET}/${key}`).catch(() => { /* a download aborts the navigation */ });
      await download;
      await tab.close();
    }
    // Give a page that did run time to finish its two requests, then ask the API.
    await page.waitForTimeout(1000);
    const users = support.api(server, 'ram', 'ListUsers', {}).Users.User.map((u) => u.UserName);
    assert.ok(!users.includes(VICTIM_USER), `a stored page ran with the console's session: ${users}`);
  } finally {
    await context.close();
  }
});
