// ali-oss (Node) against rolestack's OSS, unchanged apart from the endpoint
// (`endpoint: 'http://127.0.0.1:<port>'`: an IP endpoint makes ali-oss use path-style URLs):
// put/get/head/delete, range, listing v1/v2 with pagination and delimiter, multipart, copy,
// non-ASCII keys, signed URLs (GET, PUT, response-* overrides, expiry), error parsing (name, code,
// status, requestId, hostId, ecCode), putMeta, object and bucket ACLs, bucket tags, deleteMulti quiet
// and verbose, append, multipart progress with cancel and checkpoint resume, listUploads / listParts
// paging and abort, object tagging, symlinks, archive storage and restore, user metadata names and
// max-keys bounds; with signature V1
// (default) and V4.
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket, getVia } = require('./support/oss');

let server;
let endpoint;
let dataDir;

before(async () => {
  server = await startServer('rolestack-node-oss-');
  ({ endpoint, dataDir } = server);
});

after(() => {
  if (server) server.stop();
});

for (const v4 of [false, true]) {
  describe(`ali-oss with signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `node-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      await emptyAndDeleteBucket(c, bucket);
    });

    test('put, get, head, range, delete', async () => {
      const put = await c.put('dir/hello.txt', Buffer.from('hello from ali-oss'), { meta: { color: 'blue' } });
      assert.equal(put.res.status, 200);
      const got = await c.get('dir/hello.txt');
      assert.equal(got.content.toString(), 'hello from ali-oss');
      const head = await c.head('dir/hello.txt');
      assert.equal(head.meta.color, 'blue');
      assert.equal(head.res.headers['content-length'], '18');
      const part = await c.get('dir/hello.txt', { headers: { Range: 'bytes=0-4' } });
      assert.equal(part.res.status, 206);
      assert.equal(part.content.toString(), 'hello');
      await c.delete('dir/hello.txt');
      await assert.rejects(c.get('dir/hello.txt'), (e) => e.code === 'NoSuchKey' && e.status === 404 && !!e.requestId);
      await assert.rejects(c.head('dir/hello.txt'), (e) => e.status === 404);
    });

    test('listing v1 and v2, pagination and delimiter, non-ASCII keys', async () => {
      const keys = ['a/1', 'a/2', 'b', '中文/键 名.txt'];
      for (const k of keys) await c.put(k, Buffer.from(k));
      const page = await c.list({ 'max-keys': 2 });
      assert.deepEqual(page.objects.map((o) => o.name), ['a/1', 'a/2']);
      assert.ok(page.isTruncated && page.nextMarker);
      const rest = await c.list({ 'max-keys': 10, marker: page.nextMarker });
      assert.deepEqual(rest.objects.map((o) => o.name), ['b', '中文/键 名.txt']);
      const top = await c.list({ delimiter: '/' });
      assert.deepEqual(top.prefixes, ['a/', '中文/']);
      const v2 = await c.listV2({ 'max-keys': 3 });
      assert.equal(v2.objects.length, 3);
      assert.ok(v2.isTruncated && v2.nextContinuationToken);
      const v2rest = await c.listV2({ 'continuation-token': v2.nextContinuationToken });
      assert.deepEqual(v2rest.objects.map((o) => o.name), ['中文/键 名.txt']);
      assert.equal((await c.get('中文/键 名.txt')).content.toString(), '中文/键 名.txt');
      await c.deleteMulti(keys);
      assert.equal(((await c.list()).objects || []).length, 0);
    });

    test('multipart upload and copy', async () => {
      const data = crypto.randomBytes(300 * 1024 + 11);
      const file = path.join(dataDir, `mp-${v4}.bin`);
      fs.writeFileSync(file, data);
      await c.multipartUpload('mp.bin', file, { partSize: 100 * 1024 });
      const got = await c.get('mp.bin');
      assert.ok(got.content.equals(data));
      await c.copy('mp-copy.bin', 'mp.bin');
      const head = await c.head('mp-copy.bin');
      assert.equal(Number(head.res.headers['content-length']), data.length);
      await c.delete('mp.bin');
      await c.delete('mp-copy.bin');
    });

    test('signed URL (virtual-hosted) and errors', async () => {
      await c.put('signed.txt', Buffer.from('signed'));
      // ali-oss signs URLs only for a host name endpoint (V1 refuses an IP, V4 drops the bucket
      // from a path-style URL): sign for `localhost` and send the virtual-hosted request
      // (`Host: <bucket>.localhost:<port>`) to 127.0.0.1.
      const named = rootClient(server, bucket, v4, { endpoint: endpoint.replace('127.0.0.1', 'localhost') });
      const url = v4 ? await named.signatureUrlV4('GET', 60, {}, 'signed.txt') : named.signatureUrl('signed.txt', { expires: 60 });
      assert.ok(new URL(url).host.startsWith(`${bucket}.localhost`), url);
      const r = await getVia(endpoint, url);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, 'signed');
      const tampered = await getVia(endpoint, url.replace('signed.txt', 'other.txt'));
      assert.equal(tampered.status, 403);
      const bad = rootClient(server, bucket, v4, { accessKeySecret: 'wrong' });
      await assert.rejects(bad.get('signed.txt'), (e) => e.code === 'SignatureDoesNotMatch' && e.status === 403);
      const missing = rootClient(server, `${bucket}-none`, v4);
      await assert.rejects(missing.get('x'), (e) => e.code === 'NoSuchBucket' && e.status === 404);
      await c.delete('signed.txt');
    });

    test('metadata, ACLs, bucket tags, deleteMulti quiet and verbose, append', async () => {
      await c.put('m.txt', Buffer.from('m'), { meta: { a: '1' } });
      await c.putMeta('m.txt', { b: '2' });
      assert.deepEqual((await c.head('m.txt')).meta, { b: '2' });
      assert.equal((await c.getObjectMeta('m.txt')).res.headers['content-length'], '1');
      await c.putACL('m.txt', 'public-read');
      assert.equal((await c.getACL('m.txt')).acl, 'public-read');
      await c.putBucketTags(bucket, { team: 'blue', 'k 1': 'v/2' });
      assert.deepEqual((await c.getBucketTags(bucket)).tag, { team: 'blue', 'k 1': 'v/2' });
      await c.deleteBucketTags(bucket);
      assert.deepEqual((await c.getBucketTags(bucket)).tag, {});

      const first = await c.append('ap.txt', Buffer.from('ab'));
      assert.equal(first.nextAppendPosition, '2');
      await c.append('ap.txt', Buffer.from('cd'), { position: first.nextAppendPosition });
      assert.equal((await c.get('ap.txt')).content.toString(), 'abcd');
      await assert.rejects(c.append('ap.txt', Buffer.from('x'), { position: '1' }),
        (e) => e.code === 'PositionNotEqualToLength' && e.status === 409);
      await assert.rejects(c.append('m.txt', Buffer.from('x'), { position: '1' }),
        (e) => e.code === 'ObjectNotAppendable' && e.status === 409);

      await c.put('q1', Buffer.from('1'));
      const quiet = await c.deleteMulti(['q1', 'never-there'], { quiet: true });
      assert.deepEqual(quiet.deleted, []);
      const verbose = await c.deleteMulti(['m.txt', 'ap.txt', 'never-there']);
      assert.deepEqual(verbose.deleted.map((d) => d.Key), ['m.txt', 'ap.txt', 'never-there']);
      assert.equal(((await c.list()).objects || []).length, 0);
    });

    test('multipart: progress, cancel and checkpoint resume, listUploads / listParts paging, abort', async () => {
      const data = crypto.randomBytes(350 * 1024);
      const file = path.join(dataDir, `resume-${v4}.bin`);
      fs.writeFileSync(file, data);
      let checkpoint;
      const seen = [];
      await assert.rejects(c.multipartUpload('resume.bin', file, {
        partSize: 100 * 1024,
        parallel: 1,
        progress: (p, cpt) => {
          seen.push(p);
          checkpoint = cpt;
          if (p >= 0.4 && !c.isCancel()) c.cancel();
        },
      }), (e) => e.name === 'cancel');
      assert.equal(checkpoint.doneParts.length, 2);
      await c.multipartUpload('resume.bin', file, { checkpoint, partSize: 100 * 1024, progress: (p) => seen.push(p) });
      assert.equal(seen.at(-1), 1);
      assert.ok((await c.get('resume.bin')).content.equals(data));
      await c.delete('resume.bin');

      const ids = [];
      for (const name of ['u1', 'u2', 'u3']) ids.push((await c.initMultipartUpload(name)).uploadId);
      for (let n = 1; n <= 3; n += 1) await c.uploadPart('u1', ids[0], n, file, 0, 100 * 1024);
      const parts = await c.listParts('u1', ids[0], { 'max-parts': 2 });
      assert.deepEqual(parts.parts.map((p) => p.PartNumber), ['1', '2']);
      assert.equal(parts.isTruncated, 'true');
      const rest = await c.listParts('u1', ids[0], { 'max-parts': 2, 'part-number-marker': parts.nextPartNumberMarker });
      assert.equal(rest.parts.PartNumber, '3');
      const page = await c.listUploads({ 'max-uploads': 2 });
      assert.deepEqual(page.uploads.map((u) => u.name), ['u1', 'u2']);
      assert.ok(page.isTruncated);
      const next = await c.listUploads({ 'max-uploads': 2, 'key-marker': page.nextKeyMarker, 'upload-id-marker': page.nextUploadIdMarker });
      assert.deepEqual(next.uploads.map((u) => [u.name, u.uploadId]), [['u3', ids[2]]]);
      for (const [i, name] of ['u1', 'u2', 'u3'].entries()) assert.equal((await c.abortMultipartUpload(name, ids[i])).res.status, 204);
      assert.deepEqual((await c.listUploads({})).uploads, []);
      await assert.rejects(c.abortMultipartUpload('u1', ids[0]), (e) => e.code === 'NoSuchUpload' && e.status === 404);
    });

    test('signed URLs: PUT, response-* overrides, expiry; error objects as ali-oss parses them', async () => {
      const named = rootClient(server, bucket, v4, { endpoint: endpoint.replace('127.0.0.1', 'localhost') });
      const putUrl = v4
        ? await named.signatureUrlV4('PUT', 60, { headers: { 'Content-Type': 'text/plain' } }, 'via-url.txt')
        : named.signatureUrl('via-url.txt', { method: 'PUT', expires: 60, 'Content-Type': 'text/plain' });
      const put = await getVia(endpoint, putUrl, { method: 'PUT', body: 'via-url', headers: { 'Content-Type': 'text/plain' } });
      assert.equal(put.status, 200, put.body);
      assert.equal((await c.get('via-url.txt')).content.toString(), 'via-url');
      const overrides = { 'content-type': 'application/x-test', 'content-disposition': 'attachment; filename="f.txt"', 'cache-control': 'no-cache' };
      const queries = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`response-${k}`, v]));
      const getUrl = v4 ? await named.signatureUrlV4('GET', 60, { queries }, 'via-url.txt') : named.signatureUrl('via-url.txt', { expires: 60, response: overrides });
      const got = await getVia(endpoint, getUrl);
      assert.equal(got.status, 200, got.body);
      for (const [k, v] of Object.entries(overrides)) assert.equal(got.headers[k], v);
      if (!v4) {
        // ali-oss V1 URLs carry an absolute Expires: a negative lifetime signs one already past.
        const expired = await getVia(endpoint, named.signatureUrl('via-url.txt', { expires: -10 }));
        assert.equal(expired.status, 403);
        assert.match(expired.body, /<Code>AccessDenied<\/Code>[\s\S]*Request has expired/);
      }
      await c.delete('via-url.txt');

      const parsed = (code, status, ec) => (e) => {
        assert.equal(e.name, `${code}Error`);
        assert.equal(e.code, code);
        assert.equal(e.status, status);
        assert.match(e.requestId, /^[0-9A-F]{24}$/);
        assert.ok(e.hostId, 'HostId');
        assert.equal(e.ecCode, ec);
        return true;
      };
      await assert.rejects(c.get('missing.txt'), parsed('NoSuchKey', 404, '0026-00000001'));
      await assert.rejects(rootClient(server, `${bucket}-none`, v4).get('x'), parsed('NoSuchBucket', 404, '0015-00000101'));
      await assert.rejects(rootClient(server, bucket, v4, { accessKeySecret: 'wrong' }).get('x'),
        parsed('SignatureDoesNotMatch', 403, '0002-00000040'));
    });

    test('metadata names and max-keys as OSS bounds them', async () => {
      // OSS names user metadata with letters, digits and '-' only (EC 0011-00000004).
      const refused = (ec) => (e) => e.code === 'InvalidArgument' && e.status === 400 && e.ecCode === ec;
      await assert.rejects(c.put('meta-bad.txt', Buffer.from('x'), { meta: { my_key: 'v' } }), refused('0011-00000004'));
      await assert.rejects(c.head('meta-bad.txt'), (e) => e.status === 404);
      await c.put('meta-ok.txt', Buffer.from('x'), { meta: { 'my-key2': 'v' } });
      assert.equal((await c.head('meta-ok.txt')).meta['my-key2'], 'v');
      await assert.rejects(c.putMeta('meta-ok.txt', { 'a.b': 'v' }), refused('0011-00000004'));
      // max-keys is 1 to 1000 (EC 0015-00000402).
      for (const n of [0, 1001]) {
        await assert.rejects(c.list({ 'max-keys': n }), refused('0015-00000402'));
        await assert.rejects(c.listV2({ 'max-keys': n }), refused('0015-00000402'));
      }
      assert.equal((await c.list({ 'max-keys': 1, prefix: 'meta-' })).objects.length, 1);
      await c.delete('meta-ok.txt');
    });

    test('object tagging, symlinks, archive storage', async () => {
      await c.put('tagged.txt', Buffer.from('t'), { headers: { 'x-oss-tagging': 'a=1&b=2' } });
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, { a: '1', b: '2' });
      await c.putObjectTagging('tagged.txt', { team: 'blue' });
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, { team: 'blue' });
      await c.deleteObjectTagging('tagged.txt');
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, {});
      await assert.rejects(c.put('bad.txt', Buffer.from('x'), { headers: { 'x-oss-tagging': 'aa=bb=cc' } }),
        (e) => e.code === 'InvalidTag' && e.status === 400);

      await c.putSymlink('link.txt', 'tagged.txt');
      assert.equal((await c.getSymlink('link.txt')).targetName, 'tagged.txt');
      assert.equal((await c.get('link.txt')).content.toString(), 't');

      await c.put('cold.txt', Buffer.from('frozen'), { headers: { 'x-oss-storage-class': 'Archive' } });
      const head = await c.head('cold.txt');
      assert.equal(head.res.headers['x-oss-storage-class'], 'Archive');
      await assert.rejects(c.get('cold.txt'), (e) => e.code === 'InvalidObjectState' && e.status === 403);
      const restored = await c.restore('cold.txt', { type: 'Archive', Days: 1 });
      assert.equal(restored.res.status, 202);
      assert.equal((await c.head('cold.txt')).res.headers['x-oss-restore'], 'ongoing-request="true"');
      for (const k of ['tagged.txt', 'link.txt', 'cold.txt']) await c.delete(k);
    });
  });
}
