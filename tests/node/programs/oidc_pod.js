// A "pod" written for a real cluster with RRSA, run unchanged under `rolestack exec`:
// @alicloud/credentials' default chain finds ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN
// and ALIBABA_CLOUD_OIDC_TOKEN_FILE and exchanges the token at its default STS endpoint
// (https://sts.aliyuncs.com, AssumeRoleWithOIDC); ali-oss, given a region and a bucket, lists it
// with the role's credentials. Usage: oidc_pod.js <bucket>. Prints one JSON line.
'use strict';

const Credential = require('@alicloud/credentials').default;
const OSS = require('ali-oss');

async function main() {
  const [bucket] = process.argv.slice(2);
  const credential = new Credential();
  const c = await credential.getCredential();
  const client = new OSS({
    region: 'oss-cn-hangzhou',
    bucket,
    secure: true,
    accessKeyId: c.accessKeyId,
    accessKeySecret: c.accessKeySecret,
    stsToken: c.securityToken,
  });
  const listed = await client.list();
  console.log(JSON.stringify({
    Type: c.type,
    ProviderName: c.providerName,
    AccessKeyId: c.accessKeyId,
    Keys: (listed.objects || []).map((o) => o.name),
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
