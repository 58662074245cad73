// The ECR data path (issue 21, item 6), driven as ECR clients drive it: `@aws-sdk/client-ecr` in the benchmark's
// process, SigV4 with Berth's root access key, endpoint = Berth. Distribution has no ECR API, so the same bytes go
// to it the OCI way in the same rounds, under the same figure keys, so that the two stand side by side:
// - ecr-upload: InitiateLayerUpload, UploadLayerPart in parts of 20 MiB (the part size the API reference gives, and
//   Berth's InitiateLayerUpload answers), CompleteLayerUpload; against distribution, the OCI chunked upload of the
//   same layer in PATCHes of the same size (uploadChunked). Each part is a Uint8Array the SDK sends as base64 in
//   JSON: one part in memory at a time, as the API requires of any client.
// - ecr-get: GetDownloadUrlForLayer, then a GET of the URL it returns (the client counts and discards the bytes),
//   against distribution's GET of the same blob; 5 reads in a row, timed from the API call to the last byte.
//   The first read right after the push, the second, and the median of the 3rd to 5th (cached) are reported.
// Filesystem backend only (on S3 the URL would be the store's own, which the `get` workload measures already).
import {
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  ECRClient,
  type ECRClientConfig,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { Readable } from 'node:stream';
import type { Blob } from '../lib/data.ts';
import { download, newAgent } from '../lib/http.ts';
import type { Registry } from '../lib/servers.ts';
import { MB, median, secondsSince } from '../lib/stats.ts';
import type { Context, Workload } from '../lib/workload.ts';
import { uploadChunked } from './blobs.ts';
import { fileServeMBps, loopbackMBps } from './machine.ts';

const REPO = 'bench/ecr';

const mbps = (bytes: number, seconds: number) => bytes / MB / seconds;

/** One ECR client per Berth instance (a restarted server is a new one): one attempt per call, on its agent. */
function ecrOf(ctx: Context): ECRClient {
  const clients = (ctx.state.ecrClients ??= new Map<Registry, ECRClient>()) as Map<Registry, ECRClient>;
  let ecr = clients.get(ctx.reg);
  if (!ecr) {
    if (!ctx.reg.accessKeyId || !ctx.reg.secretAccessKey) throw new Error('ecr: Berth was started without its root access key');
    ecr = new ECRClient({
      endpoint: ctx.reg.url,
      region: 'us-east-1',
      credentials: { accessKeyId: ctx.reg.accessKeyId, secretAccessKey: ctx.reg.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { httpAgent: ctx.reg.agent },
    });
    clients.set(ctx.reg, ecr);
  }
  return ecr;
}

/** The repository the ECR API needs before an upload (create-on-push is the data plane's, not the API's). */
async function ensureRepository(ctx: Context): Promise<void> {
  if (ctx.state.ecrRepository) return;
  try {
    await ecrOf(ctx).send(new CreateRepositoryCommand({ repositoryName: REPO }));
  } catch (e) {
    if ((e as Error).name !== 'RepositoryAlreadyExistsException') throw e;
  }
  ctx.state.ecrRepository = true;
}

/**
 * The SDK against nothing: a request handler that sends nothing and answers at once (InitiateLayerUpload with an
 * upload id, the other calls with `{}`), so that what an upload through it takes is the SDK's own work in this
 * process (serializing the part as base64 JSON, signing it, which hashes it) and nothing else. No registry can
 * make the SDK's upload faster than this.
 */
function sdkFloor(ctx: Context): ECRClient {
  const answer = (target: string) => {
    const body = target.endsWith('.InitiateLayerUpload') ? { uploadId: 'floor', partSize: ctx.sizes.ecrPart } : {};
    return {
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Readable.from([Buffer.from(JSON.stringify(body))]),
      },
    };
  };
  return new ECRClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAFLOOR00000000000', secretAccessKey: 'floor' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => answer(request.headers['x-amz-target'] ?? ''),
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
    } as unknown as ECRClientConfig['requestHandler'],
  });
}

/** InitiateLayerUpload, UploadLayerPart part by part (each copied into one reused buffer), CompleteLayerUpload. */
async function uploadEcr(ctx: Context, blob: Blob, partSize: number, floor?: ECRClient): Promise<void> {
  const ecr = floor ?? ecrOf(ctx);
  const { uploadId, partSize: suggested } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: REPO }));
  if (!uploadId) throw new Error('InitiateLayerUpload: no uploadId');
  if (suggested !== undefined && suggested < partSize)
    throw new Error(`InitiateLayerUpload suggests parts of ${suggested} bytes, the benchmark sends ${partSize}`);
  const part = Buffer.allocUnsafe(partSize);
  for (let start = 0; start < blob.size; start += partSize) {
    const end = Math.min(start + partSize, blob.size);
    let at = 0;
    for (const piece of blob.pieces(start, end)) at += piece.copy(part, at);
    const r = await ecr.send(
      new UploadLayerPartCommand({
        repositoryName: REPO,
        uploadId,
        partFirstByte: start,
        partLastByte: end - 1,
        layerPartBlob: part.subarray(0, at),
      }),
    );
    if (!floor && r.lastByteReceived !== end - 1)
      throw new Error(`UploadLayerPart ${start}-${end - 1}: lastByteReceived ${r.lastByteReceived}`);
  }
  const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName: REPO, uploadId, layerDigests: [blob.digest] }));
  if (!floor && done.layerDigest !== blob.digest)
    throw new Error(`CompleteLayerUpload: layerDigest ${done.layerDigest}, expected ${blob.digest}`);
}

/** Berth through the ECR API, distribution through OCI chunked PATCHes of the same size. */
async function push(ctx: Context): Promise<void> {
  const blob = ctx.blobs.ecrLayer;
  if (ctx.reg.kind === 'berth') await uploadEcr(ctx, blob, ctx.sizes.ecrPart);
  else await uploadChunked(ctx.reg, REPO, blob, ctx.sizes.ecrPart);
  ctx.state.ecrLayer = true;
}

export const ecrUpload: Workload = {
  name: 'ecr-upload',
  title:
    'a layer through the ECR API (@aws-sdk/client-ecr: InitiateLayerUpload, UploadLayerPart in 20 MiB parts, CompleteLayerUpload); ' +
    "distribution: the OCI chunked upload of the same layer in PATCHes of the same size. MB/s, the benchmark process's own CPU, and the same SDK calls against nothing (the SDK's floor)",
  fsOnly: true,
  setup: async (ctx) => {
    if (ctx.reg.kind === 'berth') await ensureRepository(ctx);
  },
  run: async (ctx) => {
    const blob = ctx.blobs.ecrLayer;
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await push(ctx);
    const s = secondsSince(t0);
    const used = process.cpuUsage(cpu);
    const clientCpu = (used.user + used.system) / 1e6;
    // The same upload through the SDK against nothing, in the same round (the registry sits idle meanwhile).
    const t1 = process.hrtime.bigint();
    await uploadEcr(ctx, blob, ctx.sizes.ecrPart, sdkFloor(ctx));
    const floor = secondsSince(t1);
    ctx.log(
      `ecr-upload: ${(blob.size / 2 ** 20).toFixed(0)} MiB in parts of ${(ctx.sizes.ecrPart / 2 ** 20).toFixed(0)} MiB in ${s.toFixed(2)} s, the client's CPU ${clientCpu.toFixed(2)} s; ` +
        `the SDK's upload against nothing: ${floor.toFixed(2)} s`,
    );
    return { ecr_upload_MBps: mbps(blob.size, s), ecr_upload_client_cpu_s: clientCpu, ecr_upload_sdk_floor_MBps: mbps(blob.size, floor) };
  },
};

/** Where a layer download URL points (Berth's own, signed): read without any Authorization header. */
const anonymous = newAgent();

export const ecrGet: Workload = {
  name: 'ecr-get',
  title:
    'GetDownloadUrlForLayer, then GET of the URL it returns, 5 times in a row (timed from the API call to the last byte); distribution: GET of the same blob. ' +
    'The first read after the push, the second, the median of the next 3; the loopback HTTP limit and the file-serving floor (a trivial Node server reading a page-cached file of the same size) are measured just before',
  fsOnly: true,
  setup: async (ctx) => {
    if (!ctx.state.ecrLayer) {
      if (ctx.reg.kind === 'berth') await ensureRepository(ctx);
      await push(ctx);
    }
    ctx.state.loopbackBeforeEcrGet = await loopbackMBps(ctx.sizes.loopbackBytes);
    ctx.state.fileFloorBeforeEcrGet = await fileServeMBps(ctx.blobs.ecrLayer.size);
  },
  run: async (ctx) => {
    const loopback = ctx.state.loopbackBeforeEcrGet as Awaited<ReturnType<typeof loopbackMBps>> | undefined;
    const fileFloor = ctx.state.fileFloorBeforeEcrGet as Awaited<ReturnType<typeof fileServeMBps>> | undefined;
    if (!loopback || !fileFloor) throw new Error('ecr-get: its setup did not measure the loopback limit and the file-serving floor');
    const blob = ctx.blobs.ecrLayer;
    const samples: number[] = [];
    const urlMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      let r: { status: number; bytes: number };
      if (ctx.reg.kind === 'berth') {
        const { downloadUrl, layerDigest } = await ecrOf(ctx).send(
          new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest: blob.digest }),
        );
        urlMs.push(secondsSince(t0) * 1000);
        if (!downloadUrl || layerDigest !== blob.digest) throw new Error(`GetDownloadUrlForLayer: ${downloadUrl}, ${layerDigest}`);
        r = await download({ url: new URL(downloadUrl).origin, agent: anonymous }, downloadUrl);
      } else {
        r = await download(ctx.reg, `/v2/${REPO}/blobs/${blob.digest}`);
      }
      const s = secondsSince(t0);
      if (r.status !== 200 || r.bytes !== blob.size) throw new Error(`ecr-get: status ${r.status}, ${r.bytes} bytes of ${blob.size}`);
      samples.push(mbps(blob.size, s));
    }
    ctx.log(
      `ecr-get: ${samples.map((v) => v.toFixed(0)).join(', ')} MB/s (loopback just before: ${loopback.samples.map((v) => v.toFixed(0)).join(', ')} MB/s; the file-serving floor: ${fileFloor.samples.map((v) => v.toFixed(0)).join(', ')} MB/s)` +
        (urlMs.length ? `; GetDownloadUrlForLayer answered in ${urlMs.map((v) => v.toFixed(1)).join(', ')} ms` : ''),
    );
    return {
      ...(urlMs.length ? { ecr_get_url_ms: median(urlMs) } : {}),
      ecr_get_first_MBps: samples[0],
      ecr_get_second_MBps: samples[1],
      ecr_get_MBps: median(samples.slice(2)),
      ecr_get_loopback_MBps: loopback.median,
      ecr_get_file_floor_MBps: fileFloor.median,
    };
  },
};
