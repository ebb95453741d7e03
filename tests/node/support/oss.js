// ali-oss helpers shared by the OSS test files: the account root's client on a test server, the
// usual bucket tear-down, and a GET of a URL naming another host, sent to the server's own
// loopback listener (names such as `<bucket>.oss-cn-hangzhou.aliyuncs.com` are never resolved).
'use strict';

const http = require('node:http');
const OSS = require('ali-oss');
const { api } = require('./server');

/** The account root's ali-oss client for `bucket` on `server` (an IP endpoint: path-style URLs),
 *  signature V4 when `v4`; `options` override any setting (e.g. `accessKeySecret`, `endpoint`). */
function rootClient(server, bucket, v4 = false, options = {}) {
  return new OSS({
    accessKeyId: server.root.id,
    accessKeySecret: server.root.secret,
    endpoint: server.endpoint,
    bucket,
    region: 'oss-cn-hangzhou',
    authorizationV4: v4,
    secure: false,
    ...options,
  });
}

/** Deletes every object of `bucket` (up to 1000, the tests' sizes), then the bucket. */
async function emptyAndDeleteBucket(c, bucket) {
  const listed = await c.list({ 'max-keys': 1000 });
  for (const o of listed.objects || []) await c.delete(o.name);
  await c.deleteBucket(bucket);
}

/** Sends `method` (GET unless given) with `body` to the path and query of `url` at `endpoint`'s host
 *  and port, with `url`'s host as the Host header; resolves to { status, headers, body }. */
function getVia(endpoint, url, { method = 'GET', body, headers = {} } = {}) {
  const u = new URL(url);
  const at = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: at.hostname, port: at.port, method, path: `${u.pathname}${u.search}`, headers: { ...headers, Host: u.host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Two roles the account root may assume — `reader` with AliyunOSSReadOnlyAccess, `writer` with
 *  AliyunOSSFullAccess — and a RAM user `user` allowed to assume roles; resolves to its AccessKey. */
function ossRolesAndAssumer(server, reader, writer, user) {
  const trust = JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${server.root.accountId}:root`] } }], Version: '1' });
  for (const [role, policy] of [[reader, 'AliyunOSSReadOnlyAccess'], [writer, 'AliyunOSSFullAccess']]) {
    api(server, 'ram', 'CreateRole', { RoleName: role, AssumeRolePolicyDocument: trust });
    api(server, 'ram', 'AttachPolicyToRole', { PolicyType: 'System', PolicyName: policy, RoleName: role });
  }
  api(server, 'ram', 'CreateUser', { UserName: user });
  api(server, 'ram', 'AttachPolicyToUser', { PolicyType: 'System', PolicyName: 'AliyunSTSAssumeRoleAccess', UserName: user });
  return api(server, 'ram', 'CreateAccessKey', { UserName: user }).AccessKey;
}

module.exports = { rootClient, emptyAndDeleteBucket, getVia, ossRolesAndAssumer };
