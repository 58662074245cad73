// The pure parts of the pull through cache: which rule covers a repository and the upstream repository it maps to
// (the mapping table of ECR's user guide, "Customizing repository prefixes for ECR to ECR pull through cache"), ECR's
// known upstream URLs, a rule's upstream address, and the WWW-Authenticate challenges upstreams answer with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knownUpstreamOf, ruleFor, upstreamEndpoint, type PullThroughRule } from '../../src/core/pull-through-rules.ts';
import { parseChallenge } from '../../src/core/upstream-client.ts';

const rule = (prefix: string, upstreamRepositoryPrefix?: string): PullThroughRule => ({
  accountId: '111122223333',
  prefix,
  upstreamRegistryUrl: 'registry.example',
  createdAt: 0,
  updatedAt: 0,
  ...(upstreamRepositoryPrefix ? { upstreamRepositoryPrefix } : {}),
});

test("maps cache repositories to upstream repositories as ECR's table does; the longest prefix wins, then ROOT", () => {
  const rules = [rule('ecr-public'), rule('team-a', 'team-a'), rule('my-app', 'upstream-app'), rule('ecr-public/deep'), rule('ROOT')];
  const upstreamOf = (name: string) => {
    const m = ruleFor(rules, name);
    return m && [m.rule.prefix, m.upstreamName];
  };
  assert.deepEqual(upstreamOf('ecr-public/my-app/image1'), ['ecr-public', 'my-app/image1']);
  assert.deepEqual(upstreamOf('team-a/myapp/image1'), ['team-a', 'team-a/myapp/image1']);
  assert.deepEqual(upstreamOf('my-app/image1'), ['my-app', 'upstream-app/image1']);
  assert.deepEqual(upstreamOf('ecr-public/deep/x'), ['ecr-public/deep', 'x']);
  assert.deepEqual(upstreamOf('other/image1'), ['ROOT', 'other/image1']);
  assert.deepEqual(upstreamOf('ecr-publicity/x'), ['ROOT', 'ecr-publicity/x'], 'a prefix is a namespace, not a string prefix');
  assert.equal(ruleFor([rule('quay/')], 'quay/coreos/etcd')?.upstreamName, 'coreos/etcd', 'a trailing slash is the same namespace');
  assert.equal(ruleFor([rule('quay')], 'quay'), undefined, 'the namespace alone is no repository of it');
  assert.equal(ruleFor([rule('quay')], 'docker/x'), undefined);
});

test("recognises ECR's upstream registries by their URLs; anything else is a generic registry", () => {
  const name = (host: string) => knownUpstreamOf(host)?.name;
  assert.equal(name('registry-1.docker.io'), 'docker-hub');
  assert.equal(name('public.ecr.aws'), 'ecr-public');
  assert.equal(name('myteam.azurecr.io'), 'azure-container-registry');
  assert.equal(name('my.team.azurecr.io'), undefined);
  assert.equal(name('123456789012.dkr.ecr.eu-west-1.amazonaws.com'), 'ecr');
  assert.equal(name('12345.dkr.ecr.eu-west-1.amazonaws.com'), undefined);
  assert.equal(name('cgr.dev'), 'chainguard');
  assert.equal(name('registry.internal:5000'), undefined);
});

test("a rule's upstream address: https unless the URL says http; no path, query or credentials", () => {
  assert.deepEqual(upstreamEndpoint('quay.io'), { base: 'https://quay.io', host: 'quay.io' });
  assert.deepEqual(upstreamEndpoint('http://127.0.0.1:5000'), { base: 'http://127.0.0.1:5000', host: '127.0.0.1' });
  assert.deepEqual(upstreamEndpoint('https://Registry.Example:8443/'), { base: 'https://registry.example:8443', host: 'registry.example' });
  for (const bad of ['ftp://x', 'https://u:p@x', 'https://x/path', 'https://x?q=1', ''])
    assert.equal(upstreamEndpoint(bad), undefined, bad);
});

test('parses WWW-Authenticate challenges: Bearer with quoted parameters, Basic, and odd spacing', () => {
  assert.deepEqual(
    parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'),
    {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="berth-test"'), { scheme: 'basic', params: { realm: 'berth-test' } });
  assert.deepEqual(parseChallenge('bearer realm=http://x/t, service = "a\\"b"'), {
    scheme: 'bearer',
    params: { realm: 'http://x/t', service: 'a"b' },
  });
  assert.deepEqual(parseChallenge('Basic'), { scheme: 'basic', params: {} });
  assert.equal(parseChallenge(null), undefined);
});
