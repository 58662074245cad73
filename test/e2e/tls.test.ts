// End to end over TLS: a CA and a server certificate made here (node-forge, through src/server/certificates.ts), the
// server given them with BERTH_TLS_CERT_FILE / BERTH_TLS_KEY_FILE. Clients that check the certificate prove it:
// curl (--cacert; HTTP/2 and HTTP/1.1), skopeo (--cert-dir, Go's HTTP/2), the AWS CLI (--ca-bundle), and each
// refuses the server when given another CA. Then the certificate is replaced (SIGHUP, and a change of the files
// alone): new connections see the new one while an open keep-alive connection goes on with the old. Then
// `berth serve --tls-self-signed`, and docker over https as a smoke test (docker does not check the certificate of
// a registry on 127.0.0.0/8).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as http2Connect } from 'node:http2';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { awsCli } from '../helpers/ecr.ts';
import { dockerSession } from '../helpers/dockerd.ts';
import {
  makeTempDir,
  parseJson,
  randomData,
  removeDir,
  requireTool,
  run,
  runFails,
  runOk,
  uniqueName,
  writeFiles,
  writeOciImage,
  writeOciLayoutIndex,
} from '../helpers/tools.ts';
import { createCertificate, type Pem } from '../../src/server/certificates.ts';

const HOSTS = ['127.0.0.1', 'localhost'];

/** Writes a certificate and key the way a deployment tool would: each to a temporary name, then renamed. */
function installCert(dir: string, pem: Pem): void {
  writeFileSync(join(dir, 'key.pem.tmp'), pem.key, { mode: 0o600 });
  renameSync(join(dir, 'key.pem.tmp'), join(dir, 'key.pem'));
  writeFileSync(join(dir, 'cert.pem.tmp'), pem.cert);
  renameSync(join(dir, 'cert.pem.tmp'), join(dir, 'cert.pem'));
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

interface Seen {
  status: number;
  serial: string;
  socket: TLSSocket;
  alpn: string | false;
}

/** GET path through the agent; tells the serial of the certificate the connection was made with. */
function get(berth: Berth, agent: Agent, path: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = request(`${berth.url}${path}`, { agent }, (res) => {
      // Read before the end: a keep-alive socket is handed back to the agent then.
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, serial, socket, alpn: socket.alpnProtocol ?? false }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Asks on fresh connections until the server presents `serial` (a reload is asynchronous: a signal, a poll). */
async function waitForSerial(berth: Berth, ca: string, serial: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const agent = new Agent({ ca, keepAlive: false });
    const seen = await get(berth, agent, '/v2/');
    agent.destroy();
    if (seen.serial === serial) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the server never presented certificate ${serial}`);
}

describe('TLS: BERTH_TLS_CERT_FILE / BERTH_TLS_KEY_FILE', () => {
  let berth: Berth;
  let work: string;
  let tlsDir: string;
  let ca: Pem;
  let wrongCa: Pem;
  let server1: Pem;
  let caFile: string;
  let wrongCaFile: string;
  let certDir: string;
  let wrongCertDir: string;
  let layout: string;
  let hup: Berth | undefined;
  const env: Record<string, string> = {};

  before(async () => {
    await requireTool('skopeo');
    await requireTool('curl');
    work = makeTempDir('berth-e2e-tls-');
    tlsDir = join(work, 'tls');
    mkdirSync(tlsDir);
    ca = createCertificate({ commonName: 'Berth test CA', ca: true });
    wrongCa = createCertificate({ commonName: 'Another CA', ca: true });
    server1 = createCertificate({ commonName: 'berth-test', hosts: HOSTS, issuer: ca });
    installCert(tlsDir, server1);
    caFile = join(work, 'ca.pem');
    wrongCaFile = join(work, 'wrong-ca.pem');
    writeFileSync(caFile, ca.cert);
    writeFileSync(wrongCaFile, wrongCa.cert);
    // skopeo's --cert-dir: the CA as <dir>/ca.crt.
    certDir = join(work, 'certs');
    wrongCertDir = join(work, 'wrong-certs');
    writeFiles(certDir, { 'ca.crt': Buffer.from(ca.cert) });
    writeFiles(wrongCertDir, { 'ca.crt': Buffer.from(wrongCa.cert) });
    env.DOCKER_CONFIG = join(work, 'docker-config');
    env.REGISTRY_AUTH_FILE = join(work, 'auth.json');
    layout = join(work, 'layout');
    const image = writeOciImage(layout, { layers: [{ 'data/a.bin': randomData(64 * 1024) }] });
    writeOciLayoutIndex(layout, { v1: image.descriptor });
    berth = await startBerth({ env: { BERTH_TLS_CERT_FILE: join(tlsDir, 'cert.pem'), BERTH_TLS_KEY_FILE: join(tlsDir, 'key.pem') } });
  });

  after(async () => {
    await berth?.cleanup();
    await hup?.cleanup();
    removeDir(work);
  });

  it('prints an https:// URL', () => {
    assert.match(berth.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('curl trusts it with --cacert, over HTTP/2 and HTTP/1.1, and refuses another CA', async () => {
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const h2 = await runOk('curl', [
      '-sS',
      '--http2',
      '--cacert',
      caFile,
      '-u',
      creds,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      `${berth.url}/v2/`,
    ]);
    assert.equal(h2.stdout, '200 2');
    const h1 = await runOk('curl', [
      '-sS',
      '--http1.1',
      '--cacert',
      caFile,
      '-u',
      creds,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      `${berth.url}/v2/`,
    ]);
    assert.equal(h1.stdout, '200 1.1');
    // Without credentials: the OCI error body comes through HTTP/2 as well.
    const anon = await runOk('curl', ['-sS', '--http2', '--cacert', caFile, `${berth.url}/v2/`]);
    assert.equal(parseJson(anon.stdout).errors[0].code, 'UNAUTHORIZED');
    const refused = await runFails('curl', ['-sS', '--cacert', wrongCaFile, `${berth.url}/v2/`]);
    assert.equal(refused.code, 60, refused.stderr); // CURLE_PEER_FAILED_VERIFICATION
  });

  it('a blob goes up and comes back over HTTP/2 (the handlers stream through the http2 compatibility API)', async () => {
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const repo = `e2e/${uniqueName('tls-h2')}`;
    const data = randomData(3 * 1024 * 1024 + 5);
    const file = join(work, 'blob.bin');
    writeFileSync(file, data);
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const curl = (args: string[]) => runOk('curl', ['-sS', '--http2', '--cacert', caFile, '-u', creds, ...args]);
    const put = await curl([
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/octet-stream',
      '--data-binary',
      `@${file}`,
      `${berth.url}/v2/${repo}/blobs/uploads/?digest=${digest}`,
    ]);
    assert.equal(put.stdout, '201 2');
    const back = join(work, 'blob.back');
    const got = await curl(['-o', back, '-w', '%{http_code} %{http_version}', `${berth.url}/v2/${repo}/blobs/${digest}`]);
    assert.equal(got.stdout, '200 2');
    assert.ok(readFileSync(back).equals(data));
  });

  it('skopeo pushes and inspects with --cert-dir, and refuses another CA', async () => {
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const repo = `e2e/${uniqueName('tls')}`;
    await runOk(
      'skopeo',
      ['copy', '--dest-cert-dir', certDir, '--dest-creds', creds, `oci:${layout}:v1`, `docker://${berth.host}/${repo}:v1`],
      { env },
    );
    const info = parseJson(
      (await runOk('skopeo', ['inspect', '--cert-dir', certDir, '--creds', creds, `docker://${berth.host}/${repo}:v1`], { env })).stdout,
    );
    assert.equal(info.Name, `${berth.host}/${repo}`);
    const refused = await runFails(
      'skopeo',
      ['inspect', '--cert-dir', wrongCertDir, '--creds', creds, `docker://${berth.host}/${repo}:v1`],
      { env },
    );
    assert.match(refused.stderr, /certificate signed by unknown authority|x509/);
  });

  it('the AWS CLI trusts it with --ca-bundle, and refuses another CA', async () => {
    const aws = await awsCli(berth);
    const repo = uniqueName('tls-aws');
    const created = await aws.ok<{ repository: { repositoryUri: string } }>([
      'create-repository',
      '--repository-name',
      repo,
      '--ca-bundle',
      caFile,
    ]);
    assert.equal(created.repository.repositoryUri, `${berth.host}/${repo}`);
    const refused = await aws.run(['describe-repositories', '--ca-bundle', wrongCaFile]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SSL|certificate/i);
  });

  it('berth import and export work against it over https with --url, trusting the CA through NODE_EXTRA_CA_CERTS', async () => {
    const repo = `e2e/${uniqueName('tls-import')}`;
    const berthCli = (args: string[], extra: Record<string, string>) =>
      run(process.execPath, [join(process.cwd(), 'bin', 'berth.js'), ...args], {
        env: {
          BERTH_ACCESS_KEY_ID: berth.accessKeyId,
          BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
          BERTH_DATA_DIR: join(work, 'none'),
          ...extra,
        },
      });
    const refused = await berthCli(['import', layout, '--repository', repo, '--url', berth.url], { NODE_EXTRA_CA_CERTS: wrongCaFile });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /certificate/i);
    const imported = await berthCli(['import', layout, '--repository', repo, '--url', berth.url], { NODE_EXTRA_CA_CERTS: caFile });
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(parseJson(imported.stdout).images[0].repository, repo);
    const out = join(work, 'tls-export.tar');
    const exported = await berthCli(['export', `${repo}:v1`, '-o', out, '--url', berth.url], { NODE_EXTRA_CA_CERTS: caFile });
    assert.equal(exported.code, 0, exported.stderr);
  });

  it('on SIGHUP new connections get the new certificate; an open keep-alive connection goes on with the old', async () => {
    // A server that does not watch its files (BERTH_TLS_RELOAD_INTERVAL_SECONDS=0): only SIGHUP reloads.
    const hupDir = join(work, 'tls-hup');
    mkdirSync(hupDir);
    installCert(hupDir, server1);
    hup = await startBerth({
      env: {
        BERTH_TLS_CERT_FILE: join(hupDir, 'cert.pem'),
        BERTH_TLS_KEY_FILE: join(hupDir, 'key.pem'),
        BERTH_TLS_RELOAD_INTERVAL_SECONDS: '0',
      },
    });
    const old = new Agent({ ca: ca.cert, keepAlive: true, maxSockets: 1 });
    const first = await get(hup, old, '/v2/');
    assert.equal(first.serial, serialOf(server1.cert));
    const server2 = createCertificate({ commonName: 'berth-test-2', hosts: HOSTS, issuer: ca });
    installCert(hupDir, server2);
    await new Promise((r) => setTimeout(r, 1500));
    const fresh = new Agent({ ca: ca.cert, keepAlive: false });
    assert.equal((await get(hup, fresh, '/v2/')).serial, serialOf(server1.cert), 'not reloaded before SIGHUP');
    fresh.destroy();
    hup.process.kill('SIGHUP');
    await waitForSerial(hup, ca.cert, serialOf(server2.cert));
    const again = await get(hup, old, '/v2/');
    assert.equal(again.socket, first.socket, 'the keep-alive connection was kept');
    assert.equal(again.serial, serialOf(server1.cert));
    assert.equal(again.status, 401);
    old.destroy();
  });

  it('a change of the files alone is picked up; a key that does not match is not, and the server goes on', async () => {
    const server3 = createCertificate({ commonName: 'berth-test-3', hosts: HOSTS, issuer: ca });
    installCert(tlsDir, server3);
    await waitForSerial(berth, ca.cert, serialOf(server3.cert));
    // A certificate with another certificate's key: refused, the one in use stays.
    const server4 = createCertificate({ commonName: 'berth-test-4', hosts: HOSTS, issuer: ca });
    installCert(tlsDir, { cert: server4.cert, key: server3.key });
    berth.process.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1500));
    const agent = new Agent({ ca: ca.cert, keepAlive: false });
    assert.equal((await get(berth, agent, '/v2/')).serial, serialOf(server3.cert));
    agent.destroy();
    assert.match(berth.output(), /TLS certificate not reloaded/);
  });
});

describe('TLS: berth serve --tls-self-signed', () => {
  let berth: Berth;

  before(async () => {
    berth = await startBerth({ serveArgs: ['--tls-self-signed'] });
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('makes a certificate, prints how to trust it, and keeps it across restarts', async () => {
    const certFile = join(berth.dataDir, 'tls', 'self-signed.crt');
    assert.match(berth.url, /^https:\/\//);
    assert.ok(berth.output().includes(`curl --cacert ${certFile}`), berth.output());
    assert.ok(berth.output().includes(`/etc/docker/certs.d/${berth.host}/ca.crt`), berth.output());
    const ok = await runOk('curl', ['-sS', '--cacert', certFile, '-o', '/dev/null', '-w', '%{http_code}', `${berth.url}/v2/`]);
    assert.equal(ok.stdout, '401');
    const before = readFileSync(certFile, 'utf8');
    berth = await berth.restart();
    assert.equal(readFileSync(certFile, 'utf8'), before);
    const again = await runOk('curl', ['-sS', '--cacert', certFile, '-o', '/dev/null', '-w', '%{http_code}', `${berth.url}/v2/`]);
    assert.equal(again.stdout, '401');
  });

  it('docker logs in, pushes and pulls over https (smoke test)', async () => {
    const docker = await dockerSession();
    const work = makeTempDir('berth-e2e-tls-docker-');
    try {
      const ref = `${berth.host}/e2e/${uniqueName('tls-docker')}:v1`;
      writeFiles(join(work, 'ctx'), {
        'hello.txt': randomData(2048),
        Dockerfile: Buffer.from('FROM scratch\nCOPY hello.txt /hello.txt\n'),
      });
      docker.trackImage(ref);
      await docker.ok(['build', '--network=none', '-t', ref, join(work, 'ctx')]);
      await docker.ok(['login', berth.host, '--username', berth.accessKeyId, '--password-stdin'], { input: berth.secretAccessKey });
      const pushed = await docker.ok(['push', ref]);
      assert.match(pushed.stdout, /digest: sha256:[0-9a-f]{64}/);
      await docker.ok(['rmi', ref]);
      await docker.ok(['pull', ref]);
    } finally {
      await docker.cleanup();
      removeDir(work);
    }
  });
});

describe('TLS: slow clients are cut off over HTTP/1.1 and HTTP/2 alike', () => {
  let berth: Berth;
  let ca: string;

  before(async () => {
    berth = await startBerth({
      serveArgs: ['--tls-self-signed'],
      env: { BERTH_HEADER_TIMEOUT_SECONDS: '1', BERTH_IDLE_TIMEOUT_SECONDS: '2' },
    });
    ca = readFileSync(join(berth.dataDir, 'tls', 'self-signed.crt'), 'utf8');
  });

  after(async () => {
    await berth?.cleanup();
  });

  const port = () => Number(new URL(berth.url).port);
  const closed = (emitter: { once(e: 'close', f: () => void): unknown }) =>
    new Promise<void>((resolve) => {
      emitter.once('close', () => resolve());
    });

  it('closes an HTTP/1.1 connection whose headers do not arrive in time', async () => {
    // On a loaded machine the TLS handshake itself may outlast the 1 s header timeout, and the server then closes
    // the connection before it is up: that is the timeout working, so such an attempt is made again (a few times).
    let socket: ReturnType<typeof tlsConnect> | undefined;
    for (let attempt = 1; attempt <= 5 && !socket; attempt++) {
      const s = tlsConnect({ host: '127.0.0.1', port: port(), ca, ALPNProtocols: ['http/1.1'] });
      s.on('error', () => {});
      const up = await new Promise<boolean>((r) => {
        s.once('secureConnect', () => r(true));
        s.once('close', () => r(false));
      });
      if (up) socket = s;
    }
    assert.ok(socket, 'a TLS connection came up in one of 5 attempts');
    assert.equal(socket.alpnProtocol, 'http/1.1');
    socket.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n');
    await closed(socket);
  });

  it('closes an idle HTTP/2 session (an idle HTTP/1.1 keep-alive connection is kept for keepAliveTimeout, as over plain HTTP)', async () => {
    // As above: a session the server closed before it was up (a handshake slower than the timeout) is made again.
    let session: ReturnType<typeof http2Connect> | undefined;
    for (let attempt = 1; attempt <= 5 && !session; attempt++) {
      const s = http2Connect(berth.url, { ca });
      s.on('error', () => {});
      const up = await new Promise<boolean>((r) => {
        s.once('connect', () => r(true));
        s.once('close', () => r(false));
      });
      if (up) session = s;
    }
    assert.ok(session, 'an HTTP/2 session came up in one of 5 attempts');
    await closed(session);
  });

  it('lets a slow but steady HTTP/1.1 upload finish (the header timeout is for headers only)', async () => {
    const data = randomData(6 * 1024);
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${berth.url}/v2/e2e/${uniqueName('slow')}/blobs/uploads/?digest=${digest}`,
        {
          method: 'POST',
          agent: new Agent({ ca }),
          headers: { authorization: berth.authHeader ?? '', 'content-type': 'application/octet-stream', 'content-length': data.length },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('error', reject);
      let i = 0;
      const next = () => {
        req.write(data.subarray(i * 1024, (i + 1) * 1024));
        if (++i < 6) setTimeout(next, 500);
        else req.end();
      };
      next();
    });
    assert.equal(status, 201);
  });
});
