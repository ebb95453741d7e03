// Runs "inside" an instance: @alicloud/credentials' default chain (which reaches the ECS RAM role
// provider at 100.100.100.200, unmodified) feeds @alicloud/sts20150401, which calls
// GetCallerIdentity at $ROLESTACK_ENDPOINT. Prints one JSON line.
'use strict';

const Credential = require('@alicloud/credentials').default;
const Sts = require('@alicloud/sts20150401').default;
const { Config } = require('@alicloud/openapi-client');

async function main() {
  const credential = new Credential();
  const c = await credential.getCredential();
  const endpoint = process.env.ROLESTACK_ENDPOINT.replace(/^http:\/\//, '');
  const sts = new Sts(new Config({ credential, endpoint, protocol: 'http' }));
  const who = await sts.getCallerIdentity();
  console.log(JSON.stringify({
    AccessKeyId: c.accessKeyId,
    Arn: who.body.arn,
    IdentityType: who.body.identityType,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
