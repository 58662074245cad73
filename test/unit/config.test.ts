import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseListen } from '../../src/config.ts';

test('defaults: 127.0.0.1:5000 and ./data', () => {
  const c = loadConfig({}, undefined);
  assert.equal(c.listen, '127.0.0.1:5000');
  assert.equal(c.dataDir, './data');
  assert.equal(c.createOnPush, false);
  assert.equal(c.directIO, true);
});

test('directIO: BERTH_DIRECT_IO or the file key, a boolean', () => {
  assert.equal(loadConfig({ BERTH_DIRECT_IO: 'false' }).directIO, false);
  assert.throws(() => loadConfig({ BERTH_DIRECT_IO: 'sometimes' }), /BERTH_DIRECT_IO must be true or false/);
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    const file = join(dir, 'berth.json');
    writeFileSync(file, JSON.stringify({ directIO: false }));
    assert.equal(loadConfig({}, file).directIO, false);
    writeFileSync(file, JSON.stringify({ directIO: 'no' }));
    assert.throws(() => loadConfig({}, file), /directIO must be true or false/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config file, overridden by environment variables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    const file = join(dir, 'berth.json');
    writeFileSync(file, JSON.stringify({ listen: '0.0.0.0:6000', dataDir: '/srv/berth', publicUrl: 'https://registry.example.com' }));
    const fromFile = loadConfig({}, file);
    assert.equal(fromFile.listen, '0.0.0.0:6000');
    assert.equal(fromFile.dataDir, '/srv/berth');
    const both = loadConfig({ BERTH_LISTEN: '127.0.0.1:7000', BERTH_CREATE_ON_PUSH: 'true' }, file);
    assert.equal(both.listen, '127.0.0.1:7000');
    assert.equal(both.dataDir, '/srv/berth');
    assert.equal(both.createOnPush, true);
    assert.equal(loadConfig({ BERTH_CONFIG: file }).dataDir, '/srv/berth');
    writeFileSync(file, JSON.stringify({ lisen: 'typo' }));
    assert.throws(() => loadConfig({}, file), /unknown setting "lisen"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid settings are refused with a clear message', () => {
  assert.throws(() => loadConfig({ BERTH_LISTEN: 'nope' }), ConfigError);
  assert.throws(() => loadConfig({ BERTH_ACCOUNT_ID: '123' }), /12 digits/);
  assert.throws(() => loadConfig({ BERTH_ROOT_ACCESS_KEY_ID: 'AKIA' }), /both/);
  assert.throws(() => loadConfig({ BERTH_CREATE_ON_PUSH: 'maybe' }), /true or false/);
  assert.deepEqual(parseListen('[::1]:5000'), { host: '::1', port: 5000 });
});

test('limits: defaults, one environment variable each, positive values only', () => {
  const c = loadConfig({});
  assert.equal(c.headerTimeoutSeconds, 30);
  assert.equal(c.idleTimeoutSeconds, 120);
  assert.equal(c.maxConnectionsPerAddress, 1024);
  assert.equal(c.maxUploadsPerPrincipal, 1000);
  assert.equal(c.maxRequestsPerPrincipal, 256);
  assert.equal(c.maxLoginFailuresPerMinute, 60);
  const set = loadConfig({
    BERTH_HEADER_TIMEOUT_SECONDS: '2.5',
    BERTH_IDLE_TIMEOUT_SECONDS: '10',
    BERTH_MAX_CONNECTIONS_PER_ADDRESS: '8',
    BERTH_MAX_UPLOADS_PER_PRINCIPAL: '3',
    BERTH_MAX_REQUESTS_PER_PRINCIPAL: '4',
    BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: '5',
  });
  assert.equal(set.headerTimeoutSeconds, 2.5);
  assert.equal(set.idleTimeoutSeconds, 10);
  assert.equal(set.maxConnectionsPerAddress, 8);
  assert.equal(set.maxUploadsPerPrincipal, 3);
  assert.equal(set.maxRequestsPerPrincipal, 4);
  assert.equal(set.maxLoginFailuresPerMinute, 5);
  assert.throws(() => loadConfig({ BERTH_HEADER_TIMEOUT_SECONDS: '0' }), /headerTimeoutSeconds must be a positive number/);
  assert.throws(() => loadConfig({ BERTH_IDLE_TIMEOUT_SECONDS: '-1' }), /BERTH_IDLE_TIMEOUT_SECONDS must be a non-negative number/);
  assert.throws(() => loadConfig({ BERTH_MAX_CONNECTIONS_PER_ADDRESS: '1.5' }), /maxConnectionsPerAddress must be a positive integer/);
  assert.throws(() => loadConfig({ BERTH_MAX_UPLOADS_PER_PRINCIPAL: '0' }), /maxUploadsPerPrincipal must be a positive integer/);
  assert.throws(
    () => loadConfig({ BERTH_MAX_REQUESTS_PER_PRINCIPAL: 'many' }),
    /BERTH_MAX_REQUESTS_PER_PRINCIPAL must be a non-negative number/,
  );
  assert.throws(() => loadConfig({ BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: '0' }), /maxLoginFailuresPerMinute must be a positive integer/);
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    const file = join(dir, 'berth.json');
    writeFileSync(file, JSON.stringify({ maxUploadsPerPrincipal: 7, headerTimeoutSeconds: 5 }));
    assert.equal(loadConfig({}, file).maxUploadsPerPrincipal, 7);
    assert.equal(loadConfig({ BERTH_HEADER_TIMEOUT_SECONDS: '6' }, file).headerTimeoutSeconds, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('databaseUrl: BERTH_DATABASE_URL, a postgres:// URL; unset means SQLite', () => {
  assert.equal(loadConfig({}).databaseUrl, undefined);
  assert.equal(loadConfig({ BERTH_DATABASE_URL: 'postgres://berth:pw@db:5432/berth' }).databaseUrl, 'postgres://berth:pw@db:5432/berth');
  assert.equal(loadConfig({ BERTH_DATABASE_URL: 'postgresql://db/berth' }).databaseUrl, 'postgresql://db/berth');
  assert.throws(() => loadConfig({ BERTH_DATABASE_URL: 'mysql://db/berth' }), /databaseUrl must be a postgres/);
});

test('blob store: the data directory by default, s3://bucket/prefix with BERTH_S3_* settings', () => {
  const d = loadConfig({});
  assert.equal(d.blobStore, undefined);
  assert.equal(d.blobRedirect, undefined, 'redirects follow the store unless set');
  const c = loadConfig({
    BERTH_BLOB_STORE: 's3://bucket/some/prefix',
    BERTH_S3_ENDPOINT: 'http://127.0.0.1:7480',
    BERTH_S3_REGION: 'eu-west-1',
    BERTH_S3_ACCESS_KEY_ID: 'AK',
    BERTH_S3_SECRET_ACCESS_KEY: 'SK',
    BERTH_BLOB_REDIRECT: 'false',
  });
  assert.deepEqual(
    [c.blobStore, c.s3Endpoint, c.s3Region, c.s3AccessKeyId, c.s3SecretAccessKey, c.blobRedirect],
    ['s3://bucket/some/prefix', 'http://127.0.0.1:7480', 'eu-west-1', 'AK', 'SK', false],
  );
  assert.throws(() => loadConfig({ BERTH_BLOB_STORE: '/var/lib/blobs' }), ConfigError);
  assert.throws(() => loadConfig({ BERTH_BLOB_STORE: 's3://b', BERTH_S3_ACCESS_KEY_ID: 'AK' }), /BERTH_S3_SECRET_ACCESS_KEY/);
  assert.throws(() => loadConfig({ BERTH_S3_ENDPOINT: '127.0.0.1:7480' }), /s3Endpoint/);
  assert.throws(() => loadConfig({ BERTH_BLOB_REDIRECT: 'maybe' }), /BERTH_BLOB_REDIRECT must be true or false/);
});

test('secretKeyFile: BERTH_SECRET_KEY_FILE is read at load, trimmed; not with BERTH_SECRET_KEY too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    const file = join(dir, 'secret.key');
    const key = Buffer.alloc(32, 3).toString('base64');
    writeFileSync(file, `${key}\n`);
    assert.equal(loadConfig({ BERTH_SECRET_KEY_FILE: file }).secretKey, key);
    assert.throws(() => loadConfig({ BERTH_SECRET_KEY_FILE: file, BERTH_SECRET_KEY: key }), /not both/);
    assert.throws(
      () => loadConfig({ BERTH_SECRET_KEY_FILE: join(dir, 'missing') }),
      (e: unknown) => e instanceof ConfigError && /cannot read the secret key file/.test((e as Error).message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
