// Lifecycle policies with numbers ECR refuses (issue 16, item 8): countNumber (and rulePriority) is an integer from 1
// up; `1e300` was taken for one. PutLifecyclePolicy and StartLifecyclePolicyPreview answer InvalidParameterException
// with ECR's "Lifecycle policy validation failure" message, and nothing is stored.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError } from '../helpers/ecr.ts';

let berth: Berth;
let ecr: ECRClient;
const repositoryName = 'lifecycle/numbers';

before(async () => {
  berth = await startBerth();
  ecr = ecrClient(berth);
  await ecr.send(new CreateRepositoryCommand({ repositoryName }));
});
after(async () => {
  ecr?.destroy();
  await berth?.cleanup();
});

const FAILURE = /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: /;

/** A one-rule policy; `countNumber` and `rulePriority` are written into the JSON text as given. */
const policy = (selection: string, rulePriority = '1') =>
  `{"rules":[{"rulePriority":${rulePriority},"description":"numbers","selection":{${selection}},"action":{"type":"expire"}}]}`;
const count = (n: string) => policy(`"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":${n}`);
const days = (n: string) => policy(`"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":${n}`);

const refused: [string, string, RegExp][] = [
  [
    'imageCountMoreThan, countNumber 1e300',
    count('1e300'),
    /instance type \(number\) does not match any allowed primitive type \(allowed: \["integer"\]\)/,
  ],
  ['imageCountMoreThan, countNumber 1E+300', count('1E+300'), /allowed: \["integer"\]/],
  [
    'imageCountMoreThan, countNumber 2^31',
    count('2147483648'),
    /greater than the required maximum \(maximum: 2147483647, found: 2147483648\)/,
  ],
  ['sinceImagePushed, countNumber 1e300', days('1e300'), /allowed: \["integer"\]/],
  ['sinceImagePushed, countNumber 1e10', days('10000000000'), /maximum: 2147483647/],
  [
    'rulePriority 1e300',
    policy('"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1', '1e300'),
    /allowed: \["integer"\]/,
  ],
];

it('PutLifecyclePolicy refuses countNumber and rulePriority beyond a 32-bit integer, and stores nothing', async () => {
  for (const [what, text, message] of refused) {
    const err = await expectEcrError(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: text })),
      'InvalidParameterException',
      FAILURE,
    );
    assert.match(err.message, message, what);
  }
  await expectEcrError(ecr.send(new GetLifecyclePolicyCommand({ repositoryName })), 'LifecyclePolicyNotFoundException');
});

it('StartLifecyclePolicyPreview refuses them too', async () => {
  for (const [what, text, message] of refused) {
    const err = await expectEcrError(
      ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: text })),
      'InvalidParameterException',
      FAILURE,
    );
    assert.match(err.message, message, what);
  }
});
