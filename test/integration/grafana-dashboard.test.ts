// docs/grafana-dashboard.json against Berth's real /metrics: the dashboard parses, has the panels the operations
// guide promises (requests, latency quantiles, bytes in and out, uploads, storage by repository, GC, lifecycle,
// jobs, dropped audit lines), and every metric name in every panel's query, and every label it groups by, is in
// what a running server answers after a push, a pull, a lifecycle run and a garbage collection. (Grafana itself
// is not here to run: this is the check the issue asks for.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { MANIFEST_TYPE, pushImage, req } from '../helpers/http.ts';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableQueries = dashboard.templating.list.flatMap((v) => {
  const q = v.query as { query?: string } | string | undefined;
  const text = typeof q === 'string' ? q : q?.query;
  return text && /berth_/.test(text) ? [{ panel: `variable $${v.name}`, expr: text }] : [];
});

const metricNames = (expr: string) => [...new Set(expr.match(/\bberth_[a-zA-Z0-9_:]+/g) ?? [])];
/** The labels an expression groups by: `by (a, b)`. */
const groupLabels = (expr: string) =>
  [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );

let berth: Berth;
let samples: Map<string, Set<string>>;

before(async () => {
  berth = await startBerth({ env: { BERTH_METRICS_PUBLIC: 'true', BERTH_GC_GRACE_SECONDS: '0' } });
  // Activity, so that every labelled series has samples: a push and a pull, a lifecycle expiry, a collection.
  const repo = 'dash/app';
  await pushImage(berth, repo, 'v1', { layer: Buffer.from('first '.repeat(400)) });
  await pushImage(berth, repo, 'v2', { layer: Buffer.from('second '.repeat(400)) });
  assert.equal((await req(berth, 'GET', `/v2/${repo}/manifests/v2`, { headers: { Accept: MANIFEST_TYPE } })).status, 200);
  await ecrClient(berth).send(
    new PutLifecyclePolicyCommand({
      repositoryName: repo,
      lifecyclePolicyText: JSON.stringify({
        rules: [
          { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
        ],
      }),
    }),
  );
  for (const [action, body] of [
    ['lifecycle-run', { repository: repo }],
    ['gc', {}],
  ] as const) {
    const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
      method: 'POST',
      headers: { authorization: berth.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${action}: ${await res.text()}`);
  }
  const text = await (await fetch(`${berth.url}/metrics`)).text();
  // Sample name → the label names its samples carry.
  samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!m) continue;
    const labels = samples.get(m[1]) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1]);
    samples.set(m[1], labels);
  }
  assert.ok(samples.size > 20, `scraped ${samples.size} series names`);
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('berth_lifecycle_images_expired_total'), 1, 'the lifecycle run expired one image');
  assert.equal(value('berth_lifecycle_repositories_evaluated_total'), 1);
  assert.match(text, /^berth_repository_storage_bytes\{account="\d{12}",repository="dash\/app"\} [1-9]\d*$/m, 'storage by repository');
});
after(async () => {
  await berth?.cleanup();
});

test('the dashboard parses and has the promised panels', () => {
  assert.equal(dashboard.uid, 'berth-registry');
  assert.ok(exprs.length >= 20, `${exprs.length} queries`);
  const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
  for (const family of [
    'berth_http_requests_total',
    'berth_http_request_duration_seconds_bucket',
    'berth_uploaded_bytes_total',
    'berth_downloaded_bytes_total',
    'berth_uploads_in_progress',
    'berth_repository_storage_bytes',
    'berth_gc_runs_total',
    'berth_gc_freed_bytes_total',
    'berth_lifecycle_images_expired_total',
    'berth_jobs_total',
    'berth_audit_lines_dropped',
  ])
    assert.ok(used.has(family), `a panel shows ${family}`);
  assert.ok(
    exprs.some((e) => /histogram_quantile\(0\.99,/.test(e.expr)),
    'a latency quantile',
  );
  for (const label of ['protocol', 'operation', 'status'])
    assert.ok(
      exprs.some((e) => groupLabels(e.expr).includes(label)),
      `requests grouped by ${label}`,
    );
});

test("every metric name in every panel's query is in Berth's /metrics, with the labels the query groups by", () => {
  for (const { panel, expr } of [...exprs, ...variableQueries]) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${panel}: ${expr} names a Berth metric`);
    for (const name of names) assert.ok(samples.has(name), `${panel}: ${name} is not in /metrics`);
    const labels = new Set([...names.flatMap((n) => [...(samples.get(n) ?? [])]), 'le']);
    for (const label of groupLabels(expr))
      assert.ok(labels.has(label), `${panel}: groups by ${label}, which ${names.join(', ')} do not carry`);
  }
});
