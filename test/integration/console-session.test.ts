// The web console's session over plain HTTP (the browser walk is test/e2e/console.test.ts): the cookie's flags
// (Secure when the public URL is https), the security headers, the session kept in the metadata store by its hash
// only, its expiry (BERTH_CONSOLE_SESSION_TTL_SECONDS, on the registry's clock), and failed sign-ins counted
// toward BERTH_MAX_LOGIN_FAILURES_PER_MINUTE.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startBerth, type Berth } from '../helpers/berth.ts';

let berth: Berth;
let httpsBerth: Berth;

before(async () => {
  [berth, httpsBerth] = await Promise.all([
    startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_CONSOLE_SESSION_TTL_SECONDS: '600', BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: '3' } }),
    startBerth({ env: { BERTH_PUBLIC_URL: 'https://registry.example.test' } }),
  ]);
});
after(() => Promise.all([berth?.cleanup(), httpsBerth?.cleanup()]));

const cookieValue = (setCookies: string[], name: string) =>
  setCookies
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]
    .slice(name.length + 1);

/** Signs in as a browser would: the form's CSRF token and its cookie, then the key and secret. */
async function signIn(b: Berth, secret = b.secretAccessKey): Promise<{ res: Response; session?: string }> {
  const form = await fetch(`${b.url}/console/sign-in`);
  const nonce = cookieValue(form.headers.getSetCookie(), 'berth_console_signin')!;
  assert.match(await form.text(), new RegExp(`name="_csrf" value="${nonce}"`));
  const res = await fetch(`${b.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `berth_console_signin=${nonce}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: nonce,
      accessKeyId: b.accessKeyId,
      secretAccessKey: secret,
      next: '/console/repositories',
    }).toString(),
  });
  await res.arrayBuffer();
  return { res, session: cookieValue(res.headers.getSetCookie(), 'berth_console') };
}

const repositoriesPage = (b: Berth, session: string) =>
  fetch(`${b.url}/console/repositories`, { redirect: 'manual', headers: { cookie: `berth_console=${session}` } });

test('the session cookie is HttpOnly, SameSite=Strict, on /console; Secure only when the public URL is https', async () => {
  const { res, session } = await signIn(berth);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/console/repositories');
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('berth_console='))!;
  assert.match(cookie, /; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=600$/);
  assert.ok(session);

  const secure = await signIn(httpsBerth);
  assert.equal(secure.res.status, 303);
  assert.match(
    secure.res.headers.getSetCookie().find((c) => c.startsWith('berth_console='))!,
    /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
  );
});

test('pages carry a Content-Security-Policy without inline scripts, X-Frame-Options DENY and a Referrer-Policy', async () => {
  const { session } = await signIn(berth);
  for (const res of [await fetch(`${berth.url}/console/sign-in`), await repositoriesPage(berth, session!)]) {
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const page = await res.text();
    assert.doesNotMatch(page, /<script>|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=/i, 'no inline script, style or event handler');
    // The assets: fingerprinted names, cached for a year.
    for (const [, path] of page.matchAll(/(?:href|src)="(\/console\/static\/[^"]+)"/g)) {
      const asset = await fetch(`${berth.url}${path}`);
      assert.equal(asset.status, 200, path);
      assert.match(path, /\.[0-9a-f]{12}\.(css|js)$/);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      await asset.arrayBuffer();
    }
  }
});

test('page weight: the repositories page with all its assets is at most 100 KB gzipped', async () => {
  const { session } = await signIn(berth);
  const res = await repositoriesPage(berth, session!);
  const page = await res.text();
  let gzipped = gzipSync(page).length;
  for (const [, path] of page.matchAll(/(?:href|src)="(\/console\/static\/[^"]+)"/g)) {
    gzipped += gzipSync(Buffer.from(await (await fetch(`${berth.url}${path}`)).arrayBuffer())).length;
  }
  assert.ok(gzipped <= 100 * 1024, `${gzipped} bytes gzipped`);
  assert.doesNotMatch(page, /https?:\/\/(?!127\.0\.0\.1)[^"'\s]+\.(js|css)/, 'no asset from elsewhere (works air-gapped)');
});

test('the metadata store keeps the session by its hash only', async () => {
  const { session } = await signIn(berth);
  const db = new DatabaseSync(join(berth.dataDir, 'meta.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT * FROM console_sessions').all() as {
      token_hash: string;
      access_key_id: string;
      principal_arn: string;
    }[];
    const row = rows.find((r) => r.token_hash === createHash('sha256').update(session!).digest('hex'));
    assert.ok(row, "a row under the token's SHA-256");
    assert.equal(row.access_key_id, berth.accessKeyId);
    assert.match(row.principal_arn, /^arn:aws:iam::\d{12}:root$/);
    assert.equal(JSON.stringify(rows).includes(session!), false, 'the token itself is not stored');
  } finally {
    db.close();
  }
});

test("a session ends at its expiry, on the registry's clock", async () => {
  const { session } = await signIn(berth);
  assert.equal((await repositoriesPage(berth, session!)).status, 200);
  const advance = async (seconds: number) => {
    const r = await fetch(`${berth.url}/_berth/admin/advance-clock`, {
      method: 'POST',
      headers: { authorization: berth.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds }),
    });
    assert.equal(r.status, 200, await r.text());
  };
  await advance(590);
  assert.equal((await repositoriesPage(berth, session!)).status, 200, 'still valid 10 seconds before its expiry');
  await advance(11);
  const expired = await repositoriesPage(berth, session!);
  assert.equal(expired.status, 303);
  assert.match(expired.headers.get('location')!, /^\/console\/sign-in/);
});

test('failed sign-ins count as failed logins: past the limit, even the right secret is refused for the minute', async () => {
  for (let i = 0; i < 3; i++) {
    const { res, session } = await signIn(berth, 'wrong');
    assert.equal(res.status, 401);
    assert.equal(session, undefined);
  }
  const { res, session } = await signIn(berth);
  assert.equal(res.status, 429);
  assert.match(res.headers.get('retry-after')!, /^\d+$/);
  assert.equal(session, undefined);
});
