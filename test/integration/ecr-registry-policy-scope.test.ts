// The REGISTRY_POLICY_SCOPE account setting with the AWS SDK for JavaScript: GetAccountSetting answers ECR's default
// (V2) until PutAccountSetting sets V1 or V2, the value is kept across a restart, and any other value is refused
// with ValidationException naming the valid ones. Reference: the ECR API reference (PutAccountSetting) and ECR's
// registry permissions documentation (registry policy scope V1 / V2).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetAccountSettingCommand, PutAccountSettingCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError } from '../helpers/ecr.ts';

describe('ECR account setting REGISTRY_POLICY_SCOPE', () => {
  let berth: Berth;
  let ecr: ECRClient;

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  const get = async () => ecr.send(new GetAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE' }));

  it('is V2 until set, then what PutAccountSetting set, kept across a restart', async () => {
    assert.deepEqual({ name: (await get()).name, value: (await get()).value }, { name: 'REGISTRY_POLICY_SCOPE', value: 'V2' });
    const put = await ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V1' }));
    assert.deepEqual({ name: put.name, value: put.value }, { name: 'REGISTRY_POLICY_SCOPE', value: 'V1' });
    assert.equal((await get()).value, 'V1');
    ecr.destroy();
    berth = await berth.restart();
    ecr = ecrClient(berth);
    assert.equal((await get()).value, 'V1', 'kept in the metadata store');
    await ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V2' }));
    assert.equal((await get()).value, 'V2');
  });

  it('refuses any other value with ValidationException', async () => {
    await expectEcrError(
      ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V3' })),
      'ValidationException',
      /V1, V2/,
    );
    assert.equal((await get()).value, 'V2');
  });
});
