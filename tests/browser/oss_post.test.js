// The browser form upload (PostObject) in a real browser: a page on another origin (a second
// loopback port) holds an HTML <form method=POST enctype=multipart/form-data> whose hidden fields
// its backend signed — here node, with a role session's STS credentials and OSS's V4 form
// signature — and whose file the user picked. Chromium submits it straight to the bucket;
// rolestack stores the file and redirects the browser back to the page's origin
// (`success_action_redirect`) with bucket, key and ETag. A key outside the policy's
// `starts-with` is answered with OSS's AccessDenied document, and nothing is stored.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const support = require('./support');

const suffix = Date.now().toString(36);
const BUCKET = `post-${suffix}`;

let server;
let app;
let appOrigin;

// The page: a form whose action and hidden fields the backend's answer fills in.
const PAGE = `<!doctype html><meta charset="utf-8"><title>upload</title><body>
<form id="upload" method="POST" enctype="multipart/form-data"><input type="file" name="file"><button>Upload</button></form>
<script>
function prepare(action, fields) {
  const form = document.getElementById('upload');
  form.action = action;
  const file = form.querySelector('input[type=file]');
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.insertBefore(input, file);
  }
}
</script></body>`;

/** What the application's backend hands the page: OSS V4 form fields for `creds`. */
function signedFields(creds, key, conditions) {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const signing = {
    'x-oss-signature-version': 'OSS4-HMAC-SHA256',
    'x-oss-credential': `${creds.AccessKeyId}/${stamp.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request`,
    'x-oss-date': stamp,
    'x-oss-security-token': creds.SecurityToken,
  };
  const expiration = new Date(Date.now() + 600 * 1000).toISOString();
  const policy = Buffer.from(JSON.stringify({ expiration, conditions: [...conditions, ...Object.entries(signing).map(([k, v]) => ({ [k]: v }))] })).toString('base64');
  let signingKey = crypto.createHmac('sha256', `aliyun_v4${creds.AccessKeySecret}`).update(stamp.slice(0, 8)).digest();
  for (const part of ['cn-hangzhou', 'oss', 'aliyun_v4_request']) signingKey = crypto.createHmac('sha256', signingKey).update(part).digest();
  const signature = crypto.createHmac('sha256', signingKey).update(policy).digest('hex');
  return { key, success_action_redirect: `${appOrigin}/done`, ...signing, policy, 'x-oss-signature': signature };
}

before(async () => {
  server = await support.startServer('rolestack-post-');
  app = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(req.url.startsWith('/done') ? '<!doctype html><title>done</title>uploaded' : PAGE);
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  appOrigin = `http://127.0.0.1:${app.address().port}`;
});

after(async () => {
  if (server) server.stop();
  if (app) app.close();
  support.removeProfiles();
});

test('a page on another origin posts a signed form with a picked file straight to the bucket', async () => {
  assert.equal((await support.ossAsRoot(server, 'PUT', `/${BUCKET}/`)).status, 200);
  const upOnly = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: [`acs:oss:*:*:${BUCKET}/uploads/*`] }] });
  const creds = support.assumeOssRole(server, `BrowserPoster-${suffix}`, `browser-poster-${suffix}`, upOnly);
  const context = await support.launchChromium();
  // Nothing but the two loopback origins may be contacted.
  const allowed = new Set([new URL(server.endpoint).host, new URL(appOrigin).host]);
  await context.route((u) => !allowed.has(u.host), (route) => route.abort());
  const page = context.pages()[0] || await context.newPage();
  try {
    const action = `${server.endpoint}/${BUCKET}`;
    const upload = async (key, content) => {
      await page.goto(appOrigin);
      await page.evaluate(([a, f]) => prepare(a, f), [action, signedFields(creds, key, [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1024]])]);
      await page.setInputFiles('input[type=file]', { name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
      const answered = page.waitForResponse((r) => r.url().startsWith(action) && r.request().method() === 'POST');
      await page.click('button');
      return answered;
    };

    const ok = await upload('uploads/${filename}', 'picked in the browser');
    assert.equal(ok.status(), 303);
    await page.waitForURL((u) => u.pathname === '/done');
    const back = new URL(page.url());
    assert.equal(back.origin, appOrigin);
    assert.equal(back.searchParams.get('bucket'), BUCKET);
    assert.equal(back.searchParams.get('key'), 'uploads/photo.txt');
    assert.match(back.searchParams.get('etag'), /^"[0-9A-F]{32}"$/);
    const stored = await support.ossAsRoot(server, 'GET', `/${BUCKET}/uploads/photo.txt`);
    assert.equal(await stored.text(), 'picked in the browser');

    const refused = await upload('elsewhere/photo.txt', 'x');
    assert.equal(refused.status(), 403);
    const body = await refused.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /<EC>0006-00000227<\/EC>/);
    assert.equal((await support.ossAsRoot(server, 'HEAD', `/${BUCKET}/elsewhere/photo.txt`)).status, 404);
  } finally {
    await context.close();
  }
});
