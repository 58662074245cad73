// The web console's first page: the repositories list of a registry with 1,000 repositories (the first 25 shown,
// each with an image), asked for one request at a time by a signed-in session. Its figure is the p99 of the time
// from the request to the whole answer on loopback (the server's time, as nothing else is in the way); the issue's
// target is under 50 ms. Also the Images tab of a repository holding 10,000 images: it must page (50 rows and a link
// to the next page, never every image), and its p99 is reported. Berth only (distribution has no console).
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { smallBlob } from '../lib/data.ts';
import { expectStatus, pool, send, type Target } from '../lib/http.ts';
import { percentile } from '../lib/stats.ts';
import type { Context, Workload } from '../lib/workload.ts';
import { uploadMonolithic } from './blobs.ts';
import { manifestOf, putManifest } from './manifests.ts';

const PREFIX = 'console/r';
/** Repositories on the console's first page (its page size), each given an image. */
const FIRST_PAGE = 25;

const nameOf = (i: number) => `${PREFIX}${String(i).padStart(4, '0')}`;
/** The repository whose Images tab is measured (the first one, so that it is on the first page too). */
const IMAGES_REPO = nameOf(0);
/** Rows the Images tab shows at most (src/console/images.ts, IMAGES_PAGE). */
const IMAGES_PAGE = 50;

/** The console as a browser sees it: no Authorization header, the session cookie once signed in. */
function browser(ctx: Context): Target {
  return { url: ctx.reg.url, agent: ctx.reg.agent };
}

/** Signs in as the root key: the sign-in form's CSRF cookie and token, then the session cookie. */
async function signIn(ctx: Context): Promise<string> {
  const t = browser(ctx);
  const form = expectStatus(await send(t, 'GET', '/console/sign-in'), 200, 'GET sign-in');
  const nonce = /berth_console_signin=([^;]+)/.exec(String(form.headers['set-cookie']))![1];
  const body = new URLSearchParams({
    _csrf: nonce,
    next: '/console/repositories',
    accessKeyId: ctx.reg.accessKeyId!,
    secretAccessKey: ctx.reg.secretAccessKey!,
  }).toString();
  const r = expectStatus(
    await send(
      t,
      'POST',
      '/console/sign-in',
      { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `berth_console_signin=${nonce}` },
      body,
    ),
    303,
    'POST sign-in',
  );
  return /berth_console=([^;]+)/.exec(String(r.headers['set-cookie']))![1];
}

export const consoleFirstPage: Workload = {
  name: 'console',
  title: 'console: the repositories list (first page) with 1,000 repositories, one request at a time: p99',
  berthOnly: true,
  setup: async (ctx) => {
    const ecr = new ECRClient({
      endpoint: ctx.reg.url,
      region: 'us-east-1',
      credentials: { accessKeyId: ctx.reg.accessKeyId!, secretAccessKey: ctx.reg.secretAccessKey! },
      maxAttempts: 1,
    });
    try {
      await pool(ctx.sizes.consoleRepositories, 8, (i) =>
        ecr.send(new CreateRepositoryCommand({ repositoryName: nameOf(i) })).then(() => undefined),
      );
    } finally {
      ecr.destroy();
    }
    const layer = smallBlob(Buffer.from('console bench layer'));
    const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    for (let i = 0; i < Math.min(FIRST_PAGE, ctx.sizes.consoleRepositories); i++) {
      if (nameOf(i) === IMAGES_REPO) continue;
      await uploadMonolithic(ctx.reg, nameOf(i), config);
      await uploadMonolithic(ctx.reg, nameOf(i), layer);
      await putManifest(ctx.reg, nameOf(i), 'latest', manifestOf(config, [layer]));
    }
    // The Images tab's repository: consoleImages images, each unique by an annotation, under its own tag.
    const nonce = `${Date.now()}-${process.pid}`;
    await uploadMonolithic(ctx.reg, IMAGES_REPO, config);
    await uploadMonolithic(ctx.reg, IMAGES_REPO, layer);
    await pool(ctx.sizes.consoleImages, 8, (i) =>
      putManifest(
        ctx.reg,
        IMAGES_REPO,
        `t${String(i).padStart(5, '0')}`,
        manifestOf(config, [layer], { 'org.example.bench.image': `${nonce}-${i}` }),
      ),
    );
    ctx.state.consoleSession = await signIn(ctx);
  },
  run: async (ctx) => {
    const t = browser(ctx);
    const headers = { Cookie: `berth_console=${ctx.state.consoleSession as string}` };
    const times: number[] = [];
    const until = Date.now() + ctx.sizes.loadSeconds * 1000;
    while (Date.now() < until || times.length < 20) {
      const start = process.hrtime.bigint();
      const r = expectStatus(await send(t, 'GET', '/console/repositories', headers), 200, 'GET /console/repositories');
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (!r.body.includes(nameOf(0))) throw new Error('the first page does not list the first repository');
    }
    ctx.log(
      `console first page: ${times.length} requests, p50 ${percentile(times, 50).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    // The Images tab of the repository with consoleImages images: one page of them, and a link to the next.
    const tab = `/console/repositories/${IMAGES_REPO}?tab=images`;
    const imageTimes: number[] = [];
    const imagesUntil = Date.now() + ctx.sizes.loadSeconds * 1000;
    while (Date.now() < imagesUntil || imageTimes.length < 20) {
      const start = process.hrtime.bigint();
      const r = expectStatus(await send(t, 'GET', tab, headers), 200, `GET ${tab}`);
      imageTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
      const page = r.body.toString();
      const rows = page.split('<tr id="row-').length - 1;
      if (rows !== Math.min(IMAGES_PAGE, ctx.sizes.consoleImages)) throw new Error(`the Images tab shows ${rows} rows, not one page`);
      if (ctx.sizes.consoleImages > IMAGES_PAGE && !page.includes('rel="next"'))
        throw new Error('the Images tab has no link to the next page');
    }
    ctx.log(
      `console Images tab (${ctx.sizes.consoleImages} images): ${imageTimes.length} requests, p50 ${percentile(imageTimes, 50).toFixed(1)} ms`,
    );
    return {
      console_first_page_p99_ms: percentile(times, 99),
      console_first_page_per_s: times.length / ctx.sizes.loadSeconds,
      console_images_tab_p99_ms: percentile(imageTimes, 99),
    };
  },
};
