// A browser app uploading straight to OSS with a role's STS token, the classic use of temporary
// credentials: a page served from another origin (a second loopback port) signs an OSS V1 PUT in
// the browser (WebCrypto), Chromium sends the CORS preflight (`OPTIONS` with
// Access-Control-Request-Headers), rolestack answers it from the bucket's CORS rules, and the
// upload's answer carries the CORS headers the page needs to read its ETag. Without a matching
// rule the preflight is refused (403 AccessForbidden) and the browser blocks the upload.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const support = require('./support');

const { launchChromium, removeProfiles, startServer } = support;

const suffix = Date.now().toString(36);
const BUCKET = `cors-${suffix}`;

let server;
let app;
let appOrigin;
let endpoint;

function oss(method, resource, options) {
  return support.ossAsRoot(server, method, resource, options);
}

// The page: signs with the STS credentials it was handed and PUTs the object cross-origin.
const PAGE = `<!doctype html><meta charset="utf-8"><title>upload</title><body><script>
async function upload(endpoint, bucket, key, creds, text) {
  const date = new Date().toUTCString();
  const type = 'text/plain';
  const sts = 'PUT\\n\\n' + type + '\\n' + date + '\\nx-oss-date:' + date + '\\nx-oss-security-token:' + creds.SecurityToken + '\\n/' + bucket + '/' + key;
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(creds.AccessKeySecret), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(sts)));
  const sig = btoa(String.fromCharCode(...mac));
  try {
    const r = await fetch(endpoint + '/' + bucket + '/' + key, { method: 'PUT', body: text, headers: {
      'Content-Type': type, 'x-oss-date': date, 'x-oss-security-token': creds.SecurityToken, Authorization: 'OSS ' + creds.AccessKeyId + ':' + sig } });
    return { status: r.status, etag: r.headers.get('ETag'), requestId: r.headers.get('x-oss-request-id') };
  } catch (e) {
    return { blocked: String(e) };
  }
}
</script></body>`;

before(async () => {
  server = await startServer('rolestack-cors-');
  ({ endpoint } = server);
  // The application's own origin: another loopback port.
  app = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(PAGE); });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  appOrigin = `http://127.0.0.1:${app.address().port}`;
});

after(async () => {
  if (server) server.stop();
  if (app) app.close();
  removeProfiles();
});

async function newPage() {
  const context = await launchChromium();
  // Nothing but the two loopback origins may be contacted (requests to them are not intercepted,
  // so Chromium's own preflights reach the server untouched).
  const allowed = new Set([new URL(endpoint).host, new URL(appOrigin).host]);
  await context.route((u) => !allowed.has(u.host), (route) => route.abort());
  const page = context.pages()[0] || await context.newPage();
  return { context, page };
}

test('a page on another origin uploads with an STS token after a CORS preflight', async () => {
  assert.equal((await oss('PUT', `/${BUCKET}/`)).status, 200);
  const upOnly = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: [`acs:oss:*:*:${BUCKET}/uploads/*`] }] });
  const creds = support.assumeOssRole(server, `BrowserUploader-${suffix}`, `browser-assumer-${suffix}`, upOnly);

  const { context, page } = await newPage();
  try {
    await page.goto(appOrigin);
    // No CORS rules yet: the preflight is refused and the browser blocks the upload.
    let r = await page.evaluate(([e, b, c]) => upload(e, b, 'uploads/first.txt', c, 'x'), [endpoint, BUCKET, creds]);
    assert.ok(r.blocked, JSON.stringify(r));
    const refused = await fetch(`${endpoint}/${BUCKET}/uploads/first.txt`, {
      method: 'OPTIONS', headers: { Origin: appOrigin, 'Access-Control-Request-Method': 'PUT' },
    });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessForbidden<\/Code>/);

    const rules = `<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration><CORSRule><AllowedOrigin>${appOrigin}</AllowedOrigin>`
      + '<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader>'
      + '<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-oss-request-id</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>';
    const put = await oss('PUT', `/${BUCKET}/?cors`, { body: rules, contentType: 'application/xml' });
    assert.equal(put.status, 200, await put.text());

    r = await page.evaluate(([e, b, c]) => upload(e, b, 'uploads/hello.txt', c, 'hello from the browser'), [endpoint, BUCKET, creds]);
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.match(r.etag, /^"[0-9A-F]{32}"$/);
    assert.equal(r.requestId.length, 24);
    const stored = await oss('GET', `/${BUCKET}/uploads/hello.txt`);
    assert.equal(await stored.text(), 'hello from the browser');

    // The session policy still decides: outside uploads/ the upload passes CORS and is denied.
    r = await page.evaluate(([e, b, c]) => upload(e, b, 'elsewhere.txt', c, 'x'), [endpoint, BUCKET, creds]);
    assert.equal(r.status, 403, JSON.stringify(r));
  } finally {
    await context.close();
  }
});
