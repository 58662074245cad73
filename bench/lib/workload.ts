// What a workload is, what it runs against, and the sizes of a full and a smoke run.
import type { Blob, DataPool } from './data.ts';
import type { Registry } from './servers.ts';
import { MB, MiB } from './stats.ts';

export interface Sizes {
  monolithic: number; // bytes of the monolithic upload (and of the GET)
  chunked: number; // bytes of the chunked upload
  chunk: number; // bytes per PATCH
  parallelCount: number; // uploads in flight at once
  parallelSize: number; // bytes of each of them
  loadSeconds: number; // manifest GET and blob HEAD load duration
  connections: number; // connections of that load
  manifestPuts: number; // manifests (and tags) PUT
  putConcurrency: number; // PUTs in flight
  tagsListSeconds: number; // how long tags/list walks are repeated
  dockerLayers: number;
  dockerLayerSize: number;
  loopbackBytes: number; // per loopback measurement
  shaBytes: number; // per SHA-256 measurement
  diskBytes: number; // disk write measurement
  consoleRepositories: number; // repositories behind the console's first page
  consoleImages: number; // images in the repository whose Images tab is measured
  ecrLayer: number; // bytes of the layer uploaded and read through the ECR API (issue 21)
  ecrPart: number; // bytes per UploadLayerPart (and per PATCH of distribution's chunked upload of it)
  fleetLayers: number; // layers of the image the fleet pulls
  fleetLayerSize: number; // bytes of each
  fleetPullers: number; // pullers at once, right after the push
  fleetColdPullers: number; // pullers at once after the page cache is dropped
  fleetDropCaches: boolean; // drop the page cache before the cold pulls (as root)
}

export const FULL: Sizes = {
  monolithic: 1024 * MiB,
  chunked: 1024 * MiB,
  chunk: 16 * MiB,
  parallelCount: 16,
  parallelSize: 64 * MiB,
  loadSeconds: 10,
  connections: 32,
  manifestPuts: 1000,
  putConcurrency: 8,
  tagsListSeconds: 3,
  dockerLayers: 5,
  dockerLayerSize: 20 * MiB,
  loopbackBytes: 1024 * MiB,
  shaBytes: 256 * MiB,
  diskBytes: 1024 * MiB,
  consoleRepositories: 1000,
  consoleImages: 10000,
  ecrLayer: 256 * MiB,
  ecrPart: 20 * MiB,
  fleetLayers: 5,
  fleetLayerSize: 40 * MB,
  fleetPullers: 64,
  fleetColdPullers: 16,
  fleetDropCaches: true,
};

// Smoke sizes keep every workload above a few clock ticks of server CPU, so that no CPU figure reads 0.
export const SMOKE: Sizes = {
  monolithic: 64 * MiB,
  chunked: 64 * MiB,
  chunk: 8 * MiB,
  parallelCount: 16,
  parallelSize: 4 * MiB,
  loadSeconds: 2,
  connections: 32,
  manifestPuts: 200,
  putConcurrency: 8,
  tagsListSeconds: 0.5,
  dockerLayers: 5,
  dockerLayerSize: 2 * MiB,
  loopbackBytes: 128 * MiB,
  shaBytes: 64 * MiB,
  diskBytes: 32 * MiB,
  consoleRepositories: 50,
  consoleImages: 60,
  ecrLayer: 16 * MiB, // parts of 5 MiB (ECR's smallest but the last): 5, 5, 5 and 1
  ecrPart: 5 * MiB,
  fleetLayers: 5,
  fleetLayerSize: 1 * MiB,
  fleetPullers: 8,
  fleetColdPullers: 4,
  fleetDropCaches: false,
};

// PG + S3 mode (--backend pg-s3): every registry's round must fit the recipe's in-memory Ceph RGW (RGW_MEMSTORE_GB,
// 8 by default) with room to spare: about 1.5 GiB of blobs per round, up to twice that while uploads are assembled,
// all freed between rounds. The other sizes are the filesystem run's.
export const S3_FULL: Sizes = { ...FULL, monolithic: 512 * MiB, chunked: 512 * MiB, parallelSize: 32 * MiB };
export const S3_SMOKE: Sizes = { ...SMOKE, monolithic: 32 * MiB, chunked: 32 * MiB, parallelSize: 2 * MiB, manifestPuts: 100 };

/** The blobs every registry gets, generated once per run (lazily: only what the selected workloads need). */
export class Blobs {
  readonly pool: DataPool;
  readonly sizes: Sizes;
  private cache = new Map<string, Blob>();
  constructor(pool: DataPool, sizes: Sizes) {
    this.pool = pool;
    this.sizes = sizes;
  }
  private get(key: string, seed: number, size: number): Blob {
    let b = this.cache.get(key);
    if (!b) {
      b = this.pool.blob(seed, size);
      this.cache.set(key, b);
    }
    return b;
  }
  get monolithic(): Blob {
    return this.get('monolithic', 1, this.sizes.monolithic);
  }
  get chunked(): Blob {
    return this.get('chunked', 2, this.sizes.chunked);
  }
  parallel(i: number): Blob {
    return this.get(`parallel-${i}`, 100 + i, this.sizes.parallelSize);
  }
  /** The layer of the ECR data path (ecr-upload, ecr-get). */
  get ecrLayer(): Blob {
    return this.get('ecr-layer', 3, this.sizes.ecrLayer);
  }
  /** Layer `i` of the image the fleet pulls. */
  fleetLayer(i: number): Blob {
    return this.get(`fleet-${i}`, 300 + i, this.sizes.fleetLayerSize);
  }
  /** The 1 MiB layer of the small image whose manifest and blob are asked for under load. */
  get smallLayer(): Blob {
    return this.get('small-layer', 900, 1024 * 1024);
  }
}

export interface Context {
  reg: Registry;
  /** The round, from 1. */
  round: number;
  sizes: Sizes;
  blobs: Blobs;
  /** What this registry instance holds already (set by setups and runs, read by later ones). */
  state: Record<string, unknown>;
  log: (message: string) => void;
  /** PG + S3 mode: a presigned GET of an object of the store, straight to it. */
  presign?: (bucket: string, key: string) => Promise<string>;
}

export interface Workload {
  name: string;
  /** One line for --help and the README. */
  title: string;
  /** Only when docker is available and asked for. */
  needsDocker?: boolean;
  /** Measures what only Berth has (the console): not run against distribution. */
  berthOnly?: boolean;
  /** Runs on the filesystem backend only (left out with --backend pg-s3). */
  fsOnly?: boolean;
  /** Untimed preparation on the registry (data the measured part needs). */
  setup?: (ctx: Context) => Promise<void>;
  /** When profiling (the server restarts between setup and run), run setup on the restarted server instead. */
  setupAfterRestart?: boolean;
  /** The measured part: figure key -> value. */
  run: (ctx: Context) => Promise<Record<string, number>>;
  /** Untimed clean-up after the run (client side). */
  teardown?: (ctx: Context) => Promise<void>;
}
