// An application written for the real cloud, run under `rolestack exec`: nothing in it names
// rolestack. @alicloud/credentials' `ram_role_arn` provider assumes a role at its default STS
// endpoint (https://sts.aliyuncs.com) from the AccessKey in the environment; ali-oss, given only a
// region and a bucket, builds https://<bucket>.oss-cn-hangzhou.aliyuncs.com URLs itself (requests
// and signed URLs) and verifies certificates with the trust Node was started with.
// Usage: cloud_app.js <RoleArn> <bucket>. Prints one JSON line.
'use strict';

const https = require('node:https');
const Credential = require('@alicloud/credentials').default;
const { Config } = require('@alicloud/credentials');
const OSS = require('ali-oss');

function get(url) {
  return new Promise((resolve, reject) => {
    https.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

async function main() {
  const [roleArn, bucket] = process.argv.slice(2);
  const credential = new Credential(new Config({
    type: 'ram_role_arn',
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    roleArn,
    roleSessionName: 'node-app',
  }));
  const assumed = await credential.getCredential();
  const client = new OSS({
    region: 'oss-cn-hangzhou',
    bucket,
    secure: true,
    accessKeyId: assumed.accessKeyId,
    accessKeySecret: assumed.accessKeySecret,
    stsToken: assumed.securityToken,
  });
  await client.put('from-node.txt', Buffer.from('virtual-hosted'));
  const listed = await client.list();
  const url = client.signatureUrl('from-node.txt', { expires: 600 });
  const fetched = await get(url);
  console.log(JSON.stringify({
    AccessKeyId: assumed.accessKeyId,
    Keys: (listed.objects || []).map((o) => o.name),
    SignedUrlHost: new URL(url).host,
    Fetched: fetched,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
