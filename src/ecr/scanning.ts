// ECR scanning operations: PutRegistryScanningConfiguration, GetRegistryScanningConfiguration,
// BatchGetRepositoryScanningConfiguration, StartImageScan, DescribeImageScanFindings, and the scan fields of
// DescribeImages. The scanning itself is src/scan/ (jobs, off the request path).
import type {
  Attribute,
  BatchGetRepositoryScanningConfigurationRequest,
  BatchGetRepositoryScanningConfigurationResponse,
  DescribeImageScanFindingsRequest,
  DescribeImageScanFindingsResponse,
  EnhancedImageScanFinding,
  GetRegistryScanningConfigurationRequest,
  GetRegistryScanningConfigurationResponse,
  ImageScanFinding,
  ImageScanFindingsSummary,
  ImageScanStatus,
  PutRegistryScanningConfigurationRequest,
  PutRegistryScanningConfigurationResponse,
  StartImageScanRequest,
  StartImageScanResponse,
} from '@aws-sdk/client-ecr';
import { repositoryArn } from '../core/arn.ts';
import {
  getScanningConfiguration,
  putScanningConfiguration,
  repositoryScanning,
  type RegistryScanningConfiguration,
  type ScanningRule,
} from '../core/scanning.ts';
import type { Finding } from '../scan/match.ts';
import type { ImageRow, ImageScan, Repository } from '../storage/meta/store.ts';
import { afterOf, authorizedRepository, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';

const DEFAULT_PAGE = 100;

export async function putRegistryScanningConfiguration(
  ctx: EcrContext,
  input: PutRegistryScanningConfigurationRequest,
): Promise<Wire<PutRegistryScanningConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  const scanType = input.scanType ?? 'BASIC';
  const rules: ScanningRule[] = (input.rules ?? []).map((r) => ({
    scanFrequency: r.scanFrequency!,
    repositoryFilters: r.repositoryFilters!.map((f) => ({ filter: f.filter!, filterType: 'WILDCARD' as const })),
  }));
  for (const rule of rules) {
    if (scanType === 'BASIC' && rule.scanFrequency === 'CONTINUOUS_SCAN') {
      throw new EcrError(
        'ValidationException',
        'Scan frequency CONTINUOUS_SCAN is not supported for the BASIC scan type: BASIC supports SCAN_ON_PUSH and MANUAL; use ENHANCED for continuous scanning',
      );
    }
    if (rule.repositoryFilters.length === 0) {
      throw new EcrError(
        'ValidationException',
        `A rule with scan frequency ${rule.scanFrequency} must have at least one repository filter`,
      );
    }
  }
  if (new Set(rules.map((r) => r.scanFrequency)).size !== rules.length) {
    throw new EcrError('ValidationException', 'Each scan frequency may appear in one rule only');
  }
  const config: RegistryScanningConfiguration = { scanType, rules };
  await putScanningConfiguration(ctx.registry.meta, registryId, config);
  return { registryScanningConfiguration: config };
}

export async function getRegistryScanningConfiguration(
  ctx: EcrContext,
  _input: GetRegistryScanningConfigurationRequest,
): Promise<Wire<GetRegistryScanningConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  return { registryId, scanningConfiguration: await getScanningConfiguration(ctx.registry.meta, registryId) };
}

export async function batchGetRepositoryScanningConfiguration(
  ctx: EcrContext,
  _input: BatchGetRepositoryScanningConfigurationRequest,
): Promise<Wire<BatchGetRepositoryScanningConfigurationResponse>> {
  const { registryId, repositories } = ctx.authorized;
  const config = await getScanningConfiguration(ctx.registry.meta, registryId);
  return {
    scanningConfigurations: repositories!.map((repo) => {
      const applied = repositoryScanning(config, repo);
      return {
        repositoryArn: repositoryArn(ctx.region, repo.accountId, repo.name),
        repositoryName: repo.name,
        scanOnPush: applied.scanOnPush,
        scanFrequency: applied.scanFrequency,
        appliedScanFilters: applied.appliedScanFilters,
      };
    }),
    failures: [],
  };
}

/** The image an imageId names (a tag or a digest), or ImageNotFoundException / InvalidParameterException. */
export async function imageDigest(ctx: EcrContext, repo: Repository, id: { imageDigest?: string; imageTag?: string }): Promise<string> {
  const resolved = await ctx.images.resolve(repo, id);
  if ('failure' in resolved) {
    if (resolved.failure === 'ImageNotFound') {
      throw new EcrError(
        'ImageNotFoundException',
        `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
      );
    }
    throw invalidParameter(resolved.reason);
  }
  return resolved.digest;
}

export async function startImageScan(ctx: EcrContext, input: StartImageScanRequest): Promise<Wire<StartImageScanResponse>> {
  const repo = authorizedRepository(ctx);
  const digest = await imageDigest(ctx, repo, input.imageId!);
  const manifest = await ctx.registry.meta.getManifest(repo.id, digest);
  if (manifest?.subjectDigest) {
    throw new EcrError(
      'UnsupportedImageTypeException',
      `The image with digest '${digest}' is an artifact of another image (a referrer) and is not scanned on its own`,
    );
  }
  if (manifest?.storageClass === 'ARCHIVE')
    throw new EcrError(
      'ImageArchivedException',
      `The image with digest '${digest}' is archived and cannot be scanned: restore it to the STANDARD storage class first`,
    );
  const started = await ctx.scanner.startManual(repo, digest);
  if (started === 'limited') {
    throw new EcrError('LimitExceededException', 'The scan quota per image has been exceeded. Wait and try again.');
  }
  if (started === 'missing') {
    throw new EcrError(
      'ImageNotFoundException',
      `The image with imageId {imageDigest:'${digest}', imageTag:'null'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageId: { imageDigest: digest, ...(input.imageId!.imageTag !== undefined ? { imageTag: input.imageId!.imageTag } : {}) },
    imageScanStatus: { status: 'IN_PROGRESS' },
  };
}

/** A scan's status as ECR reports it (an ACTIVE one past its continuous-scanning eligibility is SCAN_ELIGIBILITY_EXPIRED). */
export function scanStatus(ctx: EcrContext, scan: ImageScan, image: ImageRow | undefined): Wire<ImageScanStatus> {
  const { status, description } = ctx.scanner.status(scan, image);
  return { status: status as ImageScanStatus['status'], ...(description !== null ? { description } : {}) };
}

/** DescribeImages' imageScanFindingsSummary, once a scan has counts. */
export function scanSummary(scan: ImageScan): Wire<ImageScanFindingsSummary> | undefined {
  if (scan.severityCounts === null) return undefined;
  return {
    ...(scan.completedAt !== null ? { imageScanCompletedAt: epochSeconds(scan.completedAt) } : {}),
    ...(scan.vulnerabilitySourceUpdatedAt !== null
      ? { vulnerabilitySourceUpdatedAt: epochSeconds(scan.vulnerabilitySourceUpdatedAt) }
      : {}),
    findingSeverityCounts: JSON.parse(scan.severityCounts) as Record<string, number>,
  };
}

function basicFinding(f: Finding): Wire<ImageScanFinding> {
  const attributes: Attribute[] = [
    { key: 'package_version', value: f.installedVersion },
    { key: 'package_name', value: f.package.name },
  ];
  if (f.cvss2Vector !== undefined) attributes.push({ key: 'CVSS2_VECTOR', value: f.cvss2Vector });
  if (f.cvss2Score !== undefined) attributes.push({ key: 'CVSS2_SCORE', value: String(f.cvss2Score) });
  if (f.vector !== undefined) attributes.push({ key: 'CVSS3_VECTOR', value: f.vector });
  if (f.score !== undefined) attributes.push({ key: 'CVSS3_SCORE', value: String(f.score) });
  if (f.cvss4Score !== undefined)
    attributes.push({ key: 'CVSS4_VECTOR', value: f.cvss4Vector! }, { key: 'CVSS4_SCORE', value: String(f.cvss4Score) });
  return {
    name: f.id,
    ...(f.description !== undefined ? { description: f.description } : {}),
    uri: f.uri,
    severity: f.severity,
    attributes,
  };
}

/** A finding's CVSS scores, the one its severity comes from first (v3, then v4). */
function cvssScores(f: Finding): { score: number; vector: string; version: string }[] {
  const out: { score: number; vector: string; version: string }[] = [];
  if (f.score !== undefined && f.vector !== undefined)
    out.push({ score: f.score, vector: f.vector, version: f.vector.startsWith('CVSS:3.0') ? '3.0' : '3.1' });
  if (f.cvss4Score !== undefined && f.cvss4Vector !== undefined) out.push({ score: f.cvss4Score, vector: f.cvss4Vector, version: '4.0' });
  return out;
}

const PACKAGE_MANAGERS: Record<string, string> = {
  deb: 'OS',
  apk: 'OS',
  rpm: 'OS',
  npm: 'NODEPKG',
  pypi: 'PYTHONPKG',
  maven: 'JAR',
  go: 'GOBINARY',
};

function enhancedFinding(ctx: EcrContext, repo: Repository, digest: string, scan: ImageScan, f: Finding): Wire<EnhancedImageScanFinding> {
  const observed = epochSeconds(scan.completedAt ?? scan.startedAt);
  const cvss = cvssScores(f).map((c) => ({ baseScore: c.score, scoringVector: c.vector, source: f.osvId, version: c.version }));
  const scored = cvss[0];
  return {
    awsAccountId: repo.accountId,
    description: f.description ?? f.summary ?? f.id,
    findingArn: `arn:aws:ecr:${ctx.region}:${repo.accountId}:finding/${repo.name}/${digest}/${f.id}/${f.package.name}`,
    firstObservedAt: observed,
    lastObservedAt: observed,
    updatedAt: observed,
    packageVulnerabilityDetails: {
      cvss,
      referenceUrls: [f.uri],
      relatedVulnerabilities: f.aliases.filter((a) => a !== f.id),
      source: f.osvId,
      sourceUrl: f.uri,
      ...(f.published !== undefined ? { vendorCreatedAt: epochSeconds(Date.parse(f.published)) } : {}),
      ...(f.modified !== undefined ? { vendorUpdatedAt: epochSeconds(Date.parse(f.modified)) } : {}),
      vendorSeverity: f.severity,
      vulnerabilityId: f.id,
      vulnerablePackages: [
        {
          name: f.package.name,
          version: f.installedVersion,
          ...(f.package.arch !== undefined ? { arch: f.package.arch } : {}),
          filePath: f.package.path,
          packageManager: PACKAGE_MANAGERS[f.package.type] ?? f.package.type.toUpperCase(),
          ...(f.fixedVersion !== undefined ? { fixedInVersion: f.fixedVersion } : {}),
        },
      ],
    },
    remediation: {
      recommendation: { text: f.fixedVersion !== undefined ? `Upgrade ${f.package.name} to ${f.fixedVersion} or later` : 'None provided' },
    },
    resources: [
      {
        id: `arn:aws:ecr:${ctx.region}:${repo.accountId}:repository/${repo.name}/${digest}`,
        type: 'AWS_ECR_CONTAINER_IMAGE',
        details: { awsEcrContainerImage: { imageHash: digest, registry: repo.accountId, repositoryName: repo.name } },
      },
    ],
    ...(scored
      ? {
          score: scored.baseScore,
          scoreDetails: {
            cvss: {
              score: scored.baseScore,
              scoringVector: scored.scoringVector,
              scoreSource: f.osvId,
              version: scored.version,
              adjustments: [],
            },
          },
        }
      : {}),
    severity: f.severity,
    status: 'ACTIVE',
    title: `${f.id} - ${f.package.name}`,
    type: 'PACKAGE_VULNERABILITY',
    fixAvailable: f.fixedVersion !== undefined ? 'YES' : 'NO',
    exploitAvailable: 'NO',
  };
}

export async function describeImageScanFindings(
  ctx: EcrContext,
  input: DescribeImageScanFindingsRequest,
): Promise<Wire<DescribeImageScanFindingsResponse>> {
  const repo = authorizedRepository(ctx);
  const digest = await imageDigest(ctx, repo, input.imageId!);
  const scan = await ctx.registry.meta.getImageScan(repo.id, digest);
  if (!scan) {
    throw new EcrError(
      'ScanNotFoundException',
      `Image scan does not exist for the image with '{imageDigest:'${digest}', imageTag:'${input.imageId!.imageTag ?? 'null'}'}' in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  const base = {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageId: { imageDigest: digest, ...(input.imageId!.imageTag !== undefined ? { imageTag: input.imageId!.imageTag } : {}) },
    imageScanStatus: scanStatus(ctx, scan, await ctx.registry.meta.getImage(repo.id, digest)),
  };
  if (scan.findings === null) return base;
  const all = JSON.parse(scan.findings) as Finding[];
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const after = afterOf(input.nextToken);
  const start = after === undefined ? 0 : Number(after);
  if (!Number.isInteger(start) || start < 0)
    throw invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
  const { shown, nextToken } = pageOf(all.slice(start, start + limit + 1), limit, () => String(start + limit));
  const summary = scanSummary(scan) ?? {};
  return {
    ...base,
    imageScanFindings: {
      ...summary,
      ...(scan.scanType === 'ENHANCED'
        ? { enhancedFindings: shown.map((f) => enhancedFinding(ctx, repo, digest, scan, f)) }
        : { findings: shown.map(basicFinding) }),
    },
    ...(nextToken ? { nextToken } : {}),
  };
}
