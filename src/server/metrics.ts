// Prometheus metrics (GET /metrics, text format) in a registry of this server's own (never prom-client's global
// one). Every label has a bounded set of values: protocols, HTTP methods, the OCI route templates and ECR operation
// names, status classes, job kinds and outcomes. Every series is counted in plain numbers and maps, and prom-client
// is loaded only when Prometheus first scrapes: the library and what it pulls in (its default collectors,
// OpenTelemetry's API) weigh about 19 MiB of RSS, which a registry that nobody scrapes should not carry. The
// default process metrics (CPU, memory, event loop lag, GC) therefore start at the first scrape. The state that the
// stores know (uploads in progress, storage full, audit lines dropped) is read when scraped, not kept per request.
import type { Registry } from 'prom-client';
import type { StorageStatus } from './storage-space.ts';
import type { Usage } from '../storage/meta/store.ts';

export const METRICS_PATH = '/metrics';

export interface MetricsSources {
  /** Blob uploads started and not completed or cancelled. */
  uploadsInProgress: () => Promise<number>;
  storage: () => StorageStatus;
  /** Storage per repository (berth usage): asked at most once a minute, whatever the scrape interval. */
  usage: () => Promise<Usage>;
}

/** Repositories named in berth_repository_storage_bytes: the largest; the rest are summed as "(other)". */
export const STORAGE_TOP_REPOSITORIES = 20;
const USAGE_MAX_AGE_MS = 60_000;

/** The status class of an HTTP status: "2xx", "4xx", ... */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const statusClass = (status: number): string => STATUS_CLASSES[Math.floor(status / 100)] ?? 'other';

/** One sample in prom-client's own format (what a metric's `get()` answers). */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric as prom-client's registry reads it: `get()` turns plain numbers into samples when scraped. */
interface PlainMetric {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  get(): Promise<object>;
  reset(): void;
}

function plainMetric(
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  samples: () => Promise<Sample[]> | Sample[],
  reset: () => void = () => {},
): PlainMetric {
  const metric: PlainMetric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await samples() }),
    reset,
  };
  return metric;
}

export class Metrics {
  private readonly requests = new RequestSeries();
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly jobs = new Map<string, { labels: { kind: string; outcome: string }; n: number }>();
  private gcRuns = 0;
  private gcBytes = 0;
  private lifecycleRepositories = 0;
  private lifecycleExpired = 0;
  private usage?: { at: number; value: Promise<Usage> };
  private registry?: Promise<Registry>;
  private readonly sources: MetricsSources;

  constructor(sources: MetricsSources) {
    this.sources = sources;
  }

  /** One answered request. `operation` is a constant of the route tables (never a path with names in it). */
  request(protocol: string, method: string, operation: string, status: number, seconds: number): void {
    this.requests.add(protocol, method, operation, statusClass(status), seconds);
  }

  uploaded(bytes: number): void {
    if (bytes > 0) this.bytesIn += bytes;
  }

  downloaded(bytes: number): void {
    if (bytes > 0) this.bytesOut += bytes;
  }

  job(kind: string, outcome: 'succeeded' | 'failed', result?: unknown): void {
    const key = `${kind} ${outcome}`;
    const j = this.jobs.get(key);
    if (j) j.n++;
    else this.jobs.set(key, { labels: { kind, outcome }, n: 1 });
    const gc = result as { dryRun?: boolean; bytesDeleted?: number; orphanBytesDeleted?: number; uploadBytesDeleted?: number } | undefined;
    if (kind === 'gc' && outcome === 'succeeded' && gc && !gc.dryRun) {
      this.gcRuns++;
      this.gcBytes += (gc.bytesDeleted ?? 0) + (gc.orphanBytesDeleted ?? 0) + (gc.uploadBytesDeleted ?? 0);
    }
    const lifecycle = result as { results?: { expired?: unknown[] }[] } | undefined;
    if (kind === 'lifecycle' && outcome === 'succeeded' && Array.isArray(lifecycle?.results)) {
      this.lifecycleRepositories += lifecycle.results.length;
      this.lifecycleExpired += lifecycle.results.reduce((n, r) => n + (r.expired?.length ?? 0), 0);
    }
  }

  /** The storage figures, asked of the store at most once a minute (a failed ask is not kept). */
  private currentUsage(): Promise<Usage> {
    if (!this.usage || Date.now() - this.usage.at > USAGE_MAX_AGE_MS) this.usage = { at: Date.now(), value: this.sources.usage() };
    const value = this.usage.value;
    value.catch(() => {
      if (this.usage?.value === value) this.usage = undefined;
    });
    return value;
  }

  /** The largest repositories by bytes, each a sample; the others summed as repository="(other)". */
  private async repositoryStorage(): Promise<Sample[]> {
    const sorted = [...(await this.currentUsage()).repositories].sort((a, b) => b.bytes - a.bytes);
    const samples: Sample[] = sorted
      .slice(0, STORAGE_TOP_REPOSITORIES)
      .map((r) => ({ labels: { account: r.accountId, repository: r.name }, value: r.bytes }));
    if (sorted.length > STORAGE_TOP_REPOSITORIES)
      samples.push({
        labels: { account: '', repository: '(other)' },
        value: sorted.slice(STORAGE_TOP_REPOSITORIES).reduce((n, r) => n + r.bytes, 0),
      });
    return samples;
  }

  async text(): Promise<{ contentType: string; body: string }> {
    const registry = await (this.registry ??= this.load());
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  private async load(): Promise<Registry> {
    const { collectDefaultMetrics, Registry } = await import('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'berth_' });
    const storage = () => this.sources.storage();
    const metrics: PlainMetric[] = [
      ...this.requests.metrics(),
      plainMetric('berth_uploaded_bytes_total', 'Bytes of blob uploads received', 'counter', () => [{ labels: {}, value: this.bytesIn }]),
      plainMetric('berth_downloaded_bytes_total', 'Bytes of blobs and manifests served by the data plane (GET)', 'counter', () => [
        { labels: {}, value: this.bytesOut },
      ]),
      plainMetric('berth_jobs_total', 'Background jobs this node ran, by kind and outcome (succeeded, failed)', 'counter', () =>
        [...this.jobs.values()].map((j) => ({ labels: j.labels, value: j.n })),
      ),
      plainMetric('berth_gc_runs_total', 'Garbage collections this node ran (not dry runs)', 'counter', () => [
        { labels: {}, value: this.gcRuns },
      ]),
      plainMetric('berth_gc_freed_bytes_total', 'Bytes freed by garbage collection (blobs, orphan files, stale uploads)', 'counter', () => [
        { labels: {}, value: this.gcBytes },
      ]),
      plainMetric('berth_uploads_in_progress', 'Blob uploads started and not completed or cancelled', 'gauge', async () => [
        { labels: {}, value: await this.sources.uploadsInProgress() },
      ]),
      plainMetric('berth_storage_full', '1 while the data directory is full (writes refused, reads served)', 'gauge', () => [
        { labels: {}, value: storage().full ? 1 : 0 },
      ]),
      plainMetric(
        'berth_audit_lines_dropped',
        'Audit log lines that could not be written (full disk) since the server started',
        'gauge',
        () => [{ labels: {}, value: storage().droppedAuditLines }],
      ),
      plainMetric(
        'berth_lifecycle_repositories_evaluated_total',
        'Repositories whose lifecycle policy this node evaluated',
        'counter',
        () => [{ labels: {}, value: this.lifecycleRepositories }],
      ),
      plainMetric('berth_lifecycle_images_expired_total', 'Images expired by lifecycle policies on this node', 'counter', () => [
        { labels: {}, value: this.lifecycleExpired },
      ]),
      plainMetric(
        'berth_repository_storage_bytes',
        `Bytes referenced by each repository's images (shared layers counted in each): the ${STORAGE_TOP_REPOSITORIES} largest, the others summed as repository="(other)"; refreshed at most once a minute`,
        'gauge',
        () => this.repositoryStorage(),
      ),
      plainMetric(
        'berth_storage_bytes',
        'Bytes of every verified blob the registry stores, each once (referenced or not); refreshed at most once a minute',
        'gauge',
        async () => [{ labels: {}, value: (await this.currentUsage()).storedBytes }],
      ),
    ];
    for (const metric of metrics) registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    return registry;
  }
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The per-request series (`berth_http_requests_total`, `berth_http_request_duration_seconds`), counted in plain maps
 * and turned into Prometheus samples only when scraped. prom-client's own counter and histogram validate and hash
 * their labels on every call: on a blob HEAD that was a fifth of the request's cost (9.6 k against 11.4 k req/s).
 */
class RequestSeries {
  private readonly counts = new Map<string, { labels: Record<string, string>; n: number }>();
  private readonly durations = new Map<string, { labels: Record<string, string>; buckets: number[]; sum: number; count: number }>();

  add(protocol: string, method: string, operation: string, status: string, seconds: number): void {
    const countKey = `${protocol} ${method} ${operation} ${status}`;
    const c = this.counts.get(countKey);
    if (c) c.n++;
    else this.counts.set(countKey, { labels: { protocol, method, operation, status }, n: 1 });
    const durationKey = `${protocol} ${operation}`;
    let d = this.durations.get(durationKey);
    if (!d)
      this.durations.set(durationKey, (d = { labels: { protocol, operation }, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    d.sum += seconds;
    d.count++;
    const b = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (b >= 0) d.buckets[b]++;
  }

  metrics(): PlainMetric[] {
    const counter = plainMetric(
      'berth_http_requests_total',
      'HTTP requests answered, by protocol, method, operation (OCI route or ECR/admin operation) and status class',
      'counter',
      () => [...this.counts.values()].map((c) => ({ labels: c.labels, value: c.n })),
      () => this.counts.clear(),
    );
    const name = 'berth_http_request_duration_seconds';
    const histogram = plainMetric(
      name,
      'Time from the request to the end of its response, by protocol and operation',
      'histogram',
      () =>
        [...this.durations.values()].flatMap((d) => {
          let cumulative = 0;
          return [
            ...DURATION_BUCKETS.map((le, i) => ({
              metricName: `${name}_bucket`,
              labels: { ...d.labels, le },
              value: (cumulative += d.buckets[i]),
            })),
            { metricName: `${name}_bucket`, labels: { ...d.labels, le: '+Inf' }, value: d.count },
            { metricName: `${name}_sum`, labels: d.labels, value: d.sum },
            { metricName: `${name}_count`, labels: d.labels, value: d.count },
          ];
        }),
      () => this.durations.clear(),
    );
    return [counter, histogram];
  }
}
