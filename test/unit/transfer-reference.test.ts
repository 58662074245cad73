// Repository names from the references archives carry (berth import): the registry host goes, and Docker Hub's
// implicit library/ with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFullReference, parseReference } from '../../src/transfer/reference.ts';
import { loadConfig, ConfigError } from '../../src/config.ts';

describe('parseReference', () => {
  it('drops the registry host and Docker Hub library/', () => {
    assert.deepEqual(parseReference('docker.io/library/x:1'), { repository: 'x', tag: '1' });
    assert.deepEqual(parseReference('index.docker.io/library/x:1'), { repository: 'x', tag: '1' });
    assert.deepEqual(parseReference('docker.io/team/x:1'), { repository: 'team/x', tag: '1' });
    assert.deepEqual(parseReference('host:5000/a/b:1'), { repository: 'a/b', tag: '1' });
    assert.deepEqual(parseReference('registry.example/a/b/c:v2'), { repository: 'a/b/c', tag: 'v2' });
    assert.deepEqual(parseReference('localhost/x:3'), { repository: 'x', tag: '3' });
    assert.deepEqual(parseReference('x:1'), { repository: 'x', tag: '1' });
    assert.deepEqual(parseReference('a/b'), { repository: 'a/b' });
    assert.deepEqual(parseReference('host:5000/a@sha256:' + '0'.repeat(64)), { repository: 'a', digest: 'sha256:' + '0'.repeat(64) });
  });

  it('tells a whole reference from a bare tag', () => {
    assert.equal(isFullReference('v1'), false);
    assert.equal(isFullReference('x:1'), true);
    assert.equal(isFullReference('a/b'), true);
  });
});

describe('TLS configuration', () => {
  it('takes the certificate and key files together', () => {
    const c = loadConfig({ BERTH_TLS_CERT_FILE: '/c.pem', BERTH_TLS_KEY_FILE: '/k.pem' });
    assert.equal(c.tlsCertFile, '/c.pem');
    assert.equal(c.tlsKeyFile, '/k.pem');
    assert.throws(() => loadConfig({ BERTH_TLS_CERT_FILE: '/c.pem' }), ConfigError);
    assert.throws(
      () => loadConfig({ BERTH_TLS_SELF_SIGNED: 'true', BERTH_TLS_CERT_FILE: '/c.pem', BERTH_TLS_KEY_FILE: '/k.pem' }),
      ConfigError,
    );
    assert.equal(loadConfig({ BERTH_TLS_SELF_SIGNED: 'true' }).tlsSelfSigned, true);
  });
});
