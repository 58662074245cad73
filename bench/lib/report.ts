// Figures, their medians over rounds, the ratio Berth / distribution, the issue's targets, and the Markdown table.
import { median } from './stats.ts';

export type Better = 'higher' | 'lower';

export interface FigureInfo {
  label: string;
  unit: string;
  better: Better;
}

const KNOWN: Record<string, FigureInfo> = {
  monolithic_MBps: { label: 'monolithic upload', unit: 'MB/s', better: 'higher' },
  monolithic_after_body_s: { label: 'monolithic: last byte sent → 201', unit: 's', better: 'lower' },
  chunked_MBps: { label: 'chunked upload', unit: 'MB/s', better: 'higher' },
  chunked_after_body_s: { label: 'chunked: waiting for answers after each body', unit: 's', better: 'lower' },
  get_MBps: { label: 'blob GET, cached (the 3rd to 5th read)', unit: 'MB/s', better: 'higher' },
  get_first_MBps: { label: 'blob GET, first read after the push', unit: 'MB/s', better: 'higher' },
  get_second_MBps: { label: 'blob GET, second read', unit: 'MB/s', better: 'higher' },
  get_loopback_MBps: { label: 'loopback HTTP limit, measured just before the GETs', unit: 'MB/s', better: 'higher' },
  get_file_floor_MBps: {
    label: 'the file-serving floor, measured just before the GETs: a trivial Node server reading a page-cached file of the same size',
    unit: 'MB/s',
    better: 'higher',
  },
  get_redirect_MBps: { label: "blob GET through the registry's 307 to the store (5 reads)", unit: 'MB/s', better: 'higher' },
  get_store_MBps: {
    label: 'blob GET of the same object straight from the store, presigned (5 reads, same round)',
    unit: 'MB/s',
    better: 'higher',
  },
  get_store_min_MBps: { label: "the store's own GET: slowest of the 5", unit: 'MB/s', better: 'higher' },
  get_store_max_MBps: { label: "the store's own GET: fastest of the 5", unit: 'MB/s', better: 'higher' },
  get_redirect_answer_ms: { label: "blob GET: time to the registry's 307", unit: 'ms', better: 'lower' },
  parallel_MBps: { label: 'parallel uploads (aggregate)', unit: 'MB/s', better: 'higher' },
  parallel_disk_MBps: {
    label: 'the disk just before: the same files written at once and fsynced (the better of page cache and O_DIRECT)',
    unit: 'MB/s',
    better: 'higher',
  },
  fleet_MBps: { label: 'fleet pull: 64 pullers of a just-pushed 5-layer image (200 MB), aggregate', unit: 'MB/s', better: 'higher' },
  fleet_p99_s: { label: 'fleet pull: time per puller, p99 of 64', unit: 's', better: 'lower' },
  fleet_floor_MBps: {
    label: 'fleet pull, the same 64 pullers against the floor (in memory, own process), same round',
    unit: 'MB/s',
    better: 'higher',
  },
  fleet_cold_MBps: { label: 'fleet pull on a dropped page cache: 16 pullers, aggregate', unit: 'MB/s', better: 'higher' },
  fleet_cold_p99_s: { label: 'fleet pull on a dropped page cache: time per puller, p99 of 16', unit: 's', better: 'lower' },
  manifest_get_rps: { label: 'manifest GET by tag', unit: 'req/s', better: 'higher' },
  manifest_get_p99_ms: { label: 'manifest GET p99', unit: 'ms', better: 'lower' },
  blob_head_rps: { label: 'blob HEAD', unit: 'req/s', better: 'higher' },
  blob_head_p99_ms: { label: 'blob HEAD p99', unit: 'ms', better: 'lower' },
  manifest_put_per_s: { label: 'manifest PUTs', unit: 'PUT/s', better: 'higher' },
  tags_list_per_s: { label: 'tags/list walks', unit: 'walk/s', better: 'higher' },
  tags_list_p50_ms: { label: 'tags/list walk p50', unit: 'ms', better: 'lower' },
  console_first_page_p99_ms: { label: 'console first page (repositories list, 1,000 repositories) p99', unit: 'ms', better: 'lower' },
  console_first_page_per_s: { label: 'console first page, one request at a time', unit: 'page/s', better: 'higher' },
  console_images_tab_p99_ms: { label: 'console Images tab (10,000 images, one page of 50) p99', unit: 'ms', better: 'lower' },
  ecr_upload_MBps: {
    label: 'ECR layer upload (SDK: UploadLayerPart in 20 MiB parts); distribution: OCI chunked upload, 20 MiB PATCHes',
    unit: 'MB/s',
    better: 'higher',
  },
  ecr_upload_sdk_floor_MBps: {
    label: 'ECR layer upload: the same SDK calls against nothing (no I/O, no server), same rounds',
    unit: 'MB/s',
    better: 'higher',
  },
  ecr_upload_client_cpu_s: { label: "ECR layer upload: the benchmark client's own CPU", unit: 's', better: 'lower' },
  ecr_get_first_MBps: {
    label: 'ECR layer download (GetDownloadUrlForLayer + GET), first read after the push; distribution: blob GET',
    unit: 'MB/s',
    better: 'higher',
  },
  ecr_get_second_MBps: { label: 'ECR layer download, second read', unit: 'MB/s', better: 'higher' },
  ecr_get_MBps: { label: 'ECR layer download, cached (the 3rd to 5th read)', unit: 'MB/s', better: 'higher' },
  ecr_get_url_ms: { label: 'ECR layer download: GetDownloadUrlForLayer, time to its answer (Berth only)', unit: 'ms', better: 'lower' },
  ecr_get_loopback_MBps: { label: 'loopback HTTP limit, measured just before the ECR downloads', unit: 'MB/s', better: 'higher' },
  ecr_get_file_floor_MBps: {
    label: 'the file-serving floor, measured just before the ECR downloads (a page-cached file of the layer size)',
    unit: 'MB/s',
    better: 'higher',
  },
  docker_push_s: { label: 'docker push', unit: 's', better: 'lower' },
  docker_pull_s: { label: 'docker pull', unit: 's', better: 'lower' },
  docker_push_floor_s: { label: 'docker push to the floor (in memory, does no work), same rounds', unit: 's', better: 'lower' },
  docker_pull_floor_s: { label: 'docker pull from the floor, same rounds', unit: 's', better: 'lower' },
  rss_start_MiB: { label: 'RSS after start (before any workload)', unit: 'MiB', better: 'lower' },
  stream_rss_max_MiB: { label: 'RSS max sampled while the big blobs stream in and out', unit: 'MiB', better: 'lower' },
  hwm_after_streams_MiB: { label: 'peak RSS (VmHWM) after the big blobs stream in and out', unit: 'MiB', better: 'lower' },
  peak_rss_MiB: { label: 'peak RSS (VmHWM) at the end of the round', unit: 'MiB', better: 'lower' },
};

export function figureInfo(key: string): FigureInfo {
  const known = KNOWN[key];
  if (known) return known;
  const [workload, what] = key.split('.');
  if (what === 'cpu_s') return { label: `server CPU: ${workload}`, unit: 's', better: 'lower' };
  if (what === 'rss_max_MiB') return { label: `server RSS max: ${workload}`, unit: 'MiB', better: 'lower' };
  return { label: key, unit: '', better: 'higher' };
}

/** The display order: the known figures first, then the per-workload CPU and RSS ones. */
export function figureOrder(keys: string[]): string[] {
  const known = Object.keys(KNOWN).filter((k) => keys.includes(k));
  const cpu = keys.filter((k) => k.endsWith('.cpu_s'));
  const rss = keys.filter((k) => k.endsWith('.rss_max_MiB'));
  const rest = keys.filter((k) => !known.includes(k) && !cpu.includes(k) && !rss.includes(k));
  return [...known, ...cpu, ...rss, ...rest];
}

export interface Series {
  median: number;
  samples: number[];
}

export interface Figure extends FigureInfo {
  key: string;
  berth?: Series;
  distribution?: Series;
  /** berth median / distribution median. */
  ratio?: number;
}

export function buildFigures(samples: { berth: Map<string, number[]>; distribution: Map<string, number[]> }): Figure[] {
  const keys = figureOrder([...new Set([...samples.berth.keys(), ...samples.distribution.keys()])]);
  return keys.map((key) => {
    const b = samples.berth.get(key);
    const d = samples.distribution.get(key);
    const f: Figure = { key, ...figureInfo(key) };
    if (b?.length) f.berth = { median: median(b), samples: b };
    if (d?.length) f.distribution = { median: median(d), samples: d };
    if (f.berth && f.distribution && f.distribution.median !== 0) f.ratio = f.berth.median / f.distribution.median;
    return f;
  });
}

export interface TargetResult {
  target: string;
  measured: string;
  /** true/false, or null when the run did not measure what the target needs. */
  met: boolean | null;
  /** By how much: measured / required, for a missed target. */
  shortfall?: string;
}

const fmt = (v: number | undefined, digits = 2): string => {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toFixed(digits);
};

/**
 * Berth ÷ distribution as the median of per-round ratios (rounds alternate Berth, distribution, so round i of each
 * ran minutes apart on the same machine), as issue 21 judges; the ratio of the medians when the rounds do not pair.
 */
export function pairedRatio(f: Figure): number | undefined {
  if (!f.berth || !f.distribution) return undefined;
  const b = f.berth.samples;
  const d = f.distribution.samples;
  if (b.length !== d.length || d.some((v) => v === 0)) return f.ratio;
  return median(b.map((v, i) => v / d[i]));
}

/** The median over rounds of each round's figure less that round's floor (what a registry added to it). */
function overFloor(s: Series, floor: Series): number {
  return median(s.samples.map((v, i) => v - floor.samples[i]));
}

/** Seconds with their sign: +0.041, -0.012. */
const signed = (v: number | undefined): string => (v === undefined ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);

/** The targets of the run's backend: issues 6 and 21 on the filesystem, issue 17's on PostgreSQL + S3. */
export function evaluateTargets(figures: Figure[], backend: 'fs' | 'pg-s3' = 'fs'): TargetResult[] {
  const get = (key: string) => figures.find((f) => f.key === key);
  const out: TargetResult[] = [];
  /** `note`: what else the run measured that bears on the target (a bound), appended to what was measured. */
  const ratioTarget = (key: string, min: number, what: string, note = '') => {
    const f = get(key);
    if (!f?.berth) return;
    const r = pairedRatio(f);
    out.push({
      target: `${what} ≥ ${min}× distribution`,
      measured:
        (r === undefined
          ? `Berth ${fmt(f.berth.median)} ${f.unit} (no distribution figure)`
          : `${fmt(r)}×, the median of per-round ratios (Berth ${fmt(f.berth.median)} vs ${fmt(f.distribution!.median)} ${f.unit})`) + note,
      met: r === undefined ? null : r >= min,
      ...(r !== undefined && r < min ? { shortfall: `${fmt((100 * r) / min, 0)} % of the target ratio` } : {}),
    });
  };
  /**
   * What a floor measured beside each registry in the same rounds says of a figure: the floor beside Berth and beside
   * distribution, and the floor ÷ distribution's figure (each distribution round's floor over that round's figure,
   * then the median): a registry can beat distribution by no more than that on this machine.
   */
  const floorNote = (floorKey: string, key: string, floorName: string, bound: string): string => {
    const fl = get(floorKey);
    const d = get(key)?.distribution;
    if (!fl?.berth || !fl.distribution) return '';
    const b = d ? median(fl.distribution.samples.map((v, i) => v / d.samples[i])) : undefined;
    return `; ${floorName} in the same rounds: ${fmt(fl.berth.median)} MB/s beside Berth, ${fmt(fl.distribution.median)} MB/s beside distribution${b === undefined ? '' : `, ${fmt(b)}× distribution: ${bound}`}`;
  };
  const fileFloor = (key: string) =>
    floorNote(
      'get_file_floor_MBps',
      key,
      'the file-serving floor (a trivial Node server reading a page-cached file: Node has no sendfile)',
      'the most a server that keeps its blobs on disk could reach on this machine, the page cache holding the whole blob',
    );
  const ecrFileFloor = (key: string) =>
    floorNote(
      'ecr_get_file_floor_MBps',
      key,
      'the file-serving floor (a trivial Node server reading a page-cached file of the layer size)',
      'the most a server that keeps its blobs on disk could reach on this machine',
    );
  const limitTarget = (key: string, limit: number, what: string, worst: boolean) => {
    const f = get(key);
    if (!f?.berth) return;
    const v = worst ? Math.max(...f.berth.samples) : f.berth.median;
    out.push({
      target: `${what} ≤ ${limit} ${f.unit}`,
      measured: `${worst ? 'worst round' : 'median over rounds'} ${fmt(v, 1)} ${f.unit} (rounds: ${f.berth.samples.map((x) => fmt(x, 1)).join(' / ')}${f.distribution ? `; distribution ${fmt(f.distribution.median, 1)}` : ''})`,
      met: v <= limit,
      ...(v > limit ? { shortfall: `${fmt(v - limit, 1)} ${f.unit} over` } : {}),
    });
  };
  // A docker figure has its floor (bench/lib/floor.ts) measured in the same runs: each round's figure minus its
  // floor is what the registry added to docker's own time. The floor beside Berth and beside distribution differs
  // only by the machine's drift between their rounds, and a lead no larger than that drift is a tie: not met.
  const lowerTarget = (key: string, what: string, floorKey?: string) => {
    const f = get(key);
    if (!f?.berth) return;
    const r = pairedRatio(f);
    const floor = floorKey === undefined ? undefined : get(floorKey);
    let measured =
      r === undefined
        ? `Berth ${fmt(f.berth.median)} ${f.unit} (no distribution figure)`
        : `Berth ${fmt(f.berth.median)} vs ${fmt(f.distribution!.median)} ${f.unit} (${fmt(r)}×)`;
    let met = r === undefined ? null : r < 1;
    let shortfall = r !== undefined && r >= 1 ? `${fmt((r - 1) * 100, 0)} % higher than distribution` : undefined;
    if (floor) {
      const over = (s?: Series, fl?: Series) => (s && fl ? overFloor(s, fl) : undefined);
      measured +=
        `; the floor in the same rounds: ${fmt(floor.berth?.median)} s beside Berth, ${fmt(floor.distribution?.median)} s beside distribution; ` +
        `over the floor, the median of each round's difference: Berth ${signed(over(f.berth, floor.berth))} s, distribution ${signed(over(f.distribution, floor.distribution))} s`;
      const drift = floor.berth && floor.distribution ? floor.berth.median / floor.distribution.median : undefined;
      if (r !== undefined && drift !== undefined && Math.abs(r - 1) <= Math.abs(drift - 1)) {
        met = false;
        shortfall = `a tie: Berth and distribution differ by ${fmt((r - 1) * 100, 1)} %, no more than the floor differs between their rounds (${fmt((drift - 1) * 100, 1)} %), so this run cannot tell them apart`;
      }
    }
    out.push({ target: `${what}: Berth lower than distribution`, measured, met, ...(shortfall === undefined ? {} : { shortfall }) });
  };
  if (backend === 'pg-s3') {
    ratioTarget('monolithic_MBps', 1.5, 'monolithic upload');
    ratioTarget('chunked_MBps', 1.5, 'chunked upload');
    ratioTarget('parallel_MBps', 1.5, 'parallel uploads');
    ratioTarget('manifest_get_rps', 3, 'manifest GET requests/s');
    const redirect = get('get_redirect_MBps')?.berth;
    const store = get('get_store_MBps')?.berth;
    const lo = get('get_store_min_MBps')?.berth;
    const hi = get('get_store_max_MBps')?.berth;
    if (redirect && store && lo && hi) {
      // Paired by round: the redirect's median ÷ the store's own median in the same round; the noise is the
      // spread of the store's own 5 reads in that round ((fastest − slowest) ÷ median). Medians over rounds.
      const ratio = median(redirect.samples.map((v, i) => v / store.samples[i]));
      const noise = median(store.samples.map((v, i) => (hi.samples[i] - lo.samples[i]) / v));
      const d = get('get_redirect_MBps')?.distribution;
      out.push({
        target: "blob GET through the redirect within noise of the store's own GET",
        measured:
          `${fmt(ratio * 100, 0)} % of the store's own GET (the median over rounds of each round's ratio; Berth ${fmt(redirect.median)} MB/s through the redirect, ` +
          `the store ${fmt(store.median)} MB/s presigned, whose own reads spread by ${fmt(noise * 100, 0)} % within a round${d ? `; distribution's redirect ${fmt(d.median)} MB/s` : ''})`,
        met: 1 - ratio <= noise,
        ...(1 - ratio > noise ? { shortfall: `${fmt((1 - ratio) * 100, 0)} % slower, more than the store's own spread` } : {}),
      });
    }
    return out;
  }
  ratioTarget('monolithic_MBps', 2.5, 'monolithic upload');
  ratioTarget('chunked_MBps', 2.5, 'chunked upload');
  ratioTarget(
    'parallel_MBps',
    2.5,
    'parallel uploads',
    floorNote(
      'parallel_disk_MBps',
      'parallel_MBps',
      'the disk (the same files written at once and fsynced)',
      'the most an upload that is on disk before its 201 could reach',
    ),
  );
  const g = get('get_MBps');
  const adjacent = get('get_loopback_MBps')?.berth;
  if (g?.berth && adjacent) {
    // Each round's GETs against the loopback limit measured just before them (a paired comparison: this
    // machine's loopback figure drifts by a third from minute to minute), then the median over rounds.
    const shares = g.berth.samples.map((v, i) => v / adjacent.samples[i]);
    const share = median(shares);
    // Issue 21's decision on issue 6's open target: the cached GET against distribution and the loopback limit.
    const vsDistribution = pairedRatio(g);
    const met = share >= 0.85 && vsDistribution !== undefined && vsDistribution >= 1.5;
    const floor = get('get_file_floor_MBps')?.berth;
    const floorShare = floor ? median(floor.samples.map((v, i) => v / adjacent.samples[i])) : undefined;
    out.push({
      target: 'blob GET, cached: ≥ 1.5× distribution and ≥ 85 % of the loopback HTTP limit',
      measured:
        `${vsDistribution === undefined ? 'no distribution figure' : `${fmt(vsDistribution)}× distribution (the median of per-round ratios; Berth ${fmt(g.berth.median)} vs ${fmt(g.distribution!.median)} MB/s)`}; ` +
        `${fmt(share * 100, 0)} % of the loopback limit: the median over rounds of each round's GET ÷ the loopback limit measured just before it (${shares.map((x) => fmt(x * 100, 0)).join(' / ')} %)` +
        fileFloor('get_MBps') +
        (floorShare === undefined ? '' : `; the floor is ${fmt(floorShare * 100, 0)} % of the loopback limit beside Berth`),
      met,
      ...(met ? {} : { shortfall: 'needs both: ≥ 1.5× and ≥ 85 %' }),
    });
  }
  ratioTarget('manifest_get_rps', 3, 'manifest GET requests/s');
  lowerTarget('manifest_get_p99_ms', 'manifest GET p99');
  ratioTarget('blob_head_rps', 3, 'blob HEAD requests/s');
  lowerTarget('blob_head_p99_ms', 'blob HEAD p99');
  ratioTarget('manifest_put_per_s', 2, 'manifest PUTs/s');
  ratioTarget('tags_list_per_s', 2, 'tags/list walks/s');
  lowerTarget('docker_push_s', 'docker push time', 'docker_push_floor_s');
  lowerTarget('docker_pull_s', 'docker pull time', 'docker_pull_floor_s');
  // Issue 21.
  // No read is faster than a read of a blob wholly in the page cache (the memory targets rule out keeping a 1 GiB
  // blob in the registry's own memory), so the file-serving floor bounds the first and second reads too.
  ratioTarget('get_first_MBps', 1.5, 'blob GET, first read after the push', fileFloor('get_first_MBps'));
  ratioTarget('get_second_MBps', 1.5, 'blob GET, second read', fileFloor('get_second_MBps'));
  const pull = get('docker_pull_s');
  const pullFloor = get('docker_pull_floor_s');
  if (pull?.berth && pull.distribution && pullFloor?.berth && pullFloor.distribution) {
    const b = overFloor(pull.berth, pullFloor.berth);
    const d = overFloor(pull.distribution, pullFloor.distribution);
    out.push({
      target: 'docker pull over the in-memory floor: Berth below distribution',
      measured: `the median over rounds of (registry − floor): Berth ${signed(b)} s, distribution ${signed(d)} s`,
      met: b < d,
      ...(b < d ? {} : { shortfall: `${(b - d).toFixed(3)} s more than distribution over the floor` }),
    });
  }
  ratioTarget(
    'fleet_MBps',
    1.5,
    'fleet pull (64 pullers), aggregate throughput',
    floorNote(
      'fleet_floor_MBps',
      'fleet_MBps',
      'the floor (in memory, its own process)',
      'the most any registry could reach on this machine',
    ),
  );
  lowerTarget('fleet_p99_s', 'fleet pull (64 pullers), p99 time per puller');
  ratioTarget('fleet_cold_MBps', 1.5, 'fleet pull on a dropped page cache (16 pullers), aggregate throughput');
  lowerTarget('fleet_cold_p99_s', 'fleet pull on a dropped page cache (16 pullers), p99 time per puller');
  limitTarget('rss_start_MiB', 55, 'RSS after start', false);
  limitTarget('peak_rss_MiB', 120, 'peak RSS over a whole round (VmHWM at its end)', true);
  limitTarget('parallel.rss_max_MiB', 120, 'RSS during 16 parallel 64 MiB uploads', true);
  // Issue 21, item 6: the ECR data path, as the median over rounds of each round's ratio.
  // The SDK's own work bounds the upload: its rate against nothing, beside distribution's in the same rounds.
  const floor = get('ecr_upload_sdk_floor_MBps');
  const chunkedD = get('ecr_upload_MBps')?.distribution?.samples;
  // Each distribution round's floor (measured right after its chunked upload) against that upload.
  const floorD = floor?.distribution?.samples;
  // And what Berth adds to its floor (its time less the floor's beside it), against distribution's whole upload:
  // times go as 1 / MB/s, so per round (1/B − 1/floor) ÷ (1/D).
  const upB = get('ecr_upload_MBps')?.berth?.samples;
  const floorB = floor?.berth?.samples;
  const added =
    upB && floorB && chunkedD?.length ? upB.slice(0, chunkedD.length).map((v, i) => (1 / v - 1 / floorB[i]) * chunkedD[i]) : undefined;
  const sdkNote =
    floorD?.length && chunkedD?.length
      ? `; the SDK alone, against nothing, in the same rounds: ${fmt(floor!.berth?.median)} MB/s beside Berth, ${fmt(floor!.distribution!.median)} MB/s beside distribution, ` +
        `${fmt(median(floorD.map((v, i) => v / chunkedD[i])))}× distribution's upload (the median of each round's ratio): no registry can take the SDK's upload past that` +
        (added
          ? `; Berth's time over its floor is ${added.map((x) => fmt(x)).join(' / ')}× distribution's whole upload time (median ${fmt(median(added))}×)`
          : '')
      : undefined;
  roundRatioTarget(
    out,
    get('ecr_upload_MBps'),
    2,
    'ECR layer upload (UploadLayerPart, 20 MiB parts) vs OCI chunked upload (issue 21)',
    sdkNote,
  );
  roundRatioTarget(
    out,
    get('ecr_get_first_MBps'),
    1.5,
    'ECR layer download (GetDownloadUrlForLayer + GET), first read after the push (issue 21)',
    ecrFileFloor('ecr_get_first_MBps'),
  );
  roundRatioTarget(
    out,
    get('ecr_get_MBps'),
    1.5,
    'ECR layer download (GetDownloadUrlForLayer + GET), cached (issue 21)',
    ecrFileFloor('ecr_get_MBps'),
  );
  const page = get('console_first_page_p99_ms')?.berth;
  if (page) {
    out.push({
      target: 'console first page (1,000 repositories) p99 < 50 ms',
      measured: `${fmt(page.median)} ms (median over rounds of each round's p99)`,
      met: page.median < 50,
      ...(page.median >= 50 ? { shortfall: `${fmt(page.median / 50, 2)}× the limit` } : {}),
    });
  }
  const hwm = get('hwm_after_streams_MiB');
  const sampled = get('stream_rss_max_MiB');
  if (hwm?.berth) {
    const worst = Math.max(...hwm.berth.samples, ...(sampled?.berth?.samples ?? []));
    out.push({
      target: 'peak RSS while the 1 GiB blobs stream in and out ≤ 150 MiB',
      measured: `worst round ${fmt(worst, 1)} MiB (VmHWM median ${fmt(hwm.berth.median, 1)} MiB${hwm.distribution ? `; distribution ${fmt(hwm.distribution.median, 1)} MiB` : ''})`,
      met: worst <= 150,
      ...(worst > 150 ? { shortfall: `${fmt(worst - 150, 1)} MiB over` } : {}),
    });
  }
  return out;
}

/**
 * A "≥ min× distribution" target judged on the median over rounds of each round's ratio (round i of Berth with round
 * i of distribution). When the rounds' ratios fall on both sides of `min`, the run cannot tell the figure from the
 * target: a tie, reported with the ratios, and not met (as a docker figure within its floor's drift is not).
 */
function roundRatioTarget(out: TargetResult[], f: Figure | undefined, min: number, what: string, limit?: string): void {
  if (!f?.berth) return;
  const target = `${what} ≥ ${min}× distribution`;
  const b = f.berth.samples;
  const d = f.distribution?.samples;
  if (!d?.length) {
    out.push({ target, measured: `Berth ${fmt(f.berth.median)} ${f.unit} (no distribution figure)`, met: null });
    return;
  }
  const n = Math.min(b.length, d.length);
  const ratios = b.slice(0, n).map((v, i) => v / d[i]);
  const r = median(ratios);
  const above = ratios.filter((x) => x >= min).length;
  const straddles = above > 0 && above < n;
  out.push({
    target,
    measured:
      `${fmt(r)}×: the median over rounds of each round's ratio (${ratios.map((x) => fmt(x)).join(' / ')}; ` +
      `Berth ${fmt(f.berth.median)} vs ${fmt(f.distribution!.median)} ${f.unit})` +
      (limit ?? ''),
    met: r >= min && !straddles,
    ...(straddles
      ? {
          shortfall: `a tie with the target: ${above} of ${n} rounds at or above ${min}×, the others below, so this run cannot tell the figure from the target (the median is ${fmt((100 * r) / min, 0)} % of it)`,
        }
      : r < min
        ? { shortfall: `${fmt((100 * r) / min, 0)} % of the target ratio` }
        : {}),
  });
}

export interface MarkdownInput {
  title: string;
  /** The issues whose targets these are ("6" by default). */
  issue?: string;
  when: string;
  machineLines: string[];
  figures: Figure[];
  targets: TargetResult[];
  notes: string[];
}

export function markdown(input: MarkdownInput): string {
  const lines = [`# ${input.title}`, '', input.when, ''];
  for (const l of input.machineLines) lines.push(`- ${l}`);
  const rounds = (s?: Series) => (s && s.samples.length > 1 ? s.samples.map((v) => fmt(v)).join(' / ') : '');
  lines.push(
    '',
    '| figure | unit | Berth | distribution | Berth / distribution | better | Berth by round | distribution by round |',
    '|---|---|---:|---:|---:|---|---|---|',
  );
  for (const f of input.figures) {
    lines.push(
      `| ${f.label} | ${f.unit} | ${fmt(f.berth?.median)} | ${fmt(f.distribution?.median)} | ${f.ratio === undefined ? '–' : fmt(f.ratio) + '×'} | ${f.better} | ${rounds(f.berth)} | ${rounds(f.distribution)} |`,
    );
  }
  if (input.targets.length > 0) {
    lines.push('', `| target (issue ${input.issue ?? '6'}) | measured | met |`, '|---|---|---|');
    for (const t of input.targets) {
      lines.push(
        `| ${t.target} | ${t.measured}${t.shortfall ? `; ${t.shortfall}` : ''} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`,
      );
    }
  }
  if (input.notes.length > 0) {
    lines.push('');
    for (const n of input.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}

/** A plain-text table for the terminal. */
export function textTable(figures: Figure[]): string {
  const rows = [['figure', 'unit', 'Berth', 'distribution', 'ratio', 'better']];
  for (const f of figures)
    rows.push([
      f.label,
      f.unit,
      fmt(f.berth?.median),
      fmt(f.distribution?.median),
      f.ratio === undefined ? '–' : fmt(f.ratio) + '×',
      f.better,
    ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')).join('\n');
}
