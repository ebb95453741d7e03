// A long-running program "inside" an instance, for faults.test.js: one @alicloud/credentials
// default-chain client (ECS RAM role provider at 100.100.100.200), kept for the life of the
// process, feeding @alicloud/sts20150401 (GetCallerIdentity) and ali-oss (GetObject on the bucket
// given as argv[2]). For each stdin line it makes one call and prints one JSON line:
//   sts | oss  with the long-lived client;   new  a fresh credential client, then GetCallerIdentity
// {"ok": true, "AccessKeyId": ...} or {"ok": false, "stage": "credentials"|"call", "error", "code"}.
'use strict';

const readline = require('node:readline');
const Credential = require('@alicloud/credentials').default;
const Sts = require('@alicloud/sts20150401').default;
const { Config } = require('@alicloud/openapi-client');
const OSS = require('ali-oss');

const endpoint = process.env.ROLESTACK_ENDPOINT;
const bucket = process.argv[2];

async function call(credential, what) {
  let c;
  try {
    c = await credential.getCredential();
  } catch (e) {
    return { ok: false, stage: 'credentials', error: String(e && e.message ? e.message : e).slice(0, 2000) };
  }
  try {
    if (what === 'oss') {
      const client = new OSS({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken,
        endpoint, bucket, region: 'oss-cn-hangzhou' });
      await client.get('probe');
    } else {
      const sts = new Sts(new Config({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret,
        securityToken: c.securityToken, endpoint: endpoint.replace(/^http:\/\//, ''), protocol: 'http' }));
      await sts.getCallerIdentity();
    }
  } catch (e) {
    return { ok: false, stage: 'call', AccessKeyId: c.accessKeyId, code: e.code || null, error: String(e.message).slice(0, 300) };
  }
  return { ok: true, AccessKeyId: c.accessKeyId };
}

async function main() {
  const credential = new Credential();
  console.log(JSON.stringify({ ready: true }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const what = line.trim();
    const result = what === 'new' ? await call(new Credential(), 'sts') : await call(credential, what);
    console.log(JSON.stringify(result));
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
