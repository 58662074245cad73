// Image scanning configuration as ECR has it: the registry's (scan type BASIC or ENHANCED, and rules of frequency
// SCAN_ON_PUSH or CONTINUOUS_SCAN with WILDCARD repository filters), kept per account in the settings table, and a
// repository's own scanOnPush, which applies while the registry configuration is BASIC with no rules. Pure but for
// the two settings calls.
import type { Repository, SettingsStore } from '../storage/meta/store.ts';
import { compileTagPattern, matchesCompiledPattern } from './tag-pattern.ts';

export type ScanType = 'BASIC' | 'ENHANCED';
export type ScanFrequency = 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';

export interface ScanningFilter {
  filter: string;
  filterType: 'WILDCARD';
}

export interface ScanningRule {
  scanFrequency: ScanFrequency;
  repositoryFilters: ScanningFilter[];
}

export interface RegistryScanningConfiguration {
  scanType: ScanType;
  rules: ScanningRule[];
}

/** What applies to one repository (BatchGetRepositoryScanningConfiguration). */
export interface RepositoryScanning {
  scanType: ScanType;
  scanFrequency: ScanFrequency;
  scanOnPush: boolean;
  appliedScanFilters: ScanningFilter[];
}

const key = (accountId: string) => `account/${accountId}/registry_scanning_configuration`;

export async function getScanningConfiguration(meta: SettingsStore, accountId: string): Promise<RegistryScanningConfiguration> {
  const text = await meta.getSetting(key(accountId));
  return text ? (JSON.parse(text) as RegistryScanningConfiguration) : { scanType: 'BASIC', rules: [] };
}

export async function putScanningConfiguration(
  meta: SettingsStore,
  accountId: string,
  config: RegistryScanningConfiguration,
): Promise<void> {
  await meta.setSetting(key(accountId), JSON.stringify(config));
}

/** Whether a WILDCARD filter (`*` matches any run of characters) matches a repository name. */
export const filterMatches = (filter: ScanningFilter, name: string): boolean =>
  matchesCompiledPattern(compileTagPattern(filter.filter), name);

/**
 * The scanning that applies to a repository: under BASIC with no rules, its own scanOnPush; otherwise the registry's
 * rules whose filters match its name, CONTINUOUS_SCAN winning over SCAN_ON_PUSH (as ECR), else manual scans only.
 */
export function repositoryScanning(
  config: RegistryScanningConfiguration,
  repo: Pick<Repository, 'name' | 'scanOnPush'>,
): RepositoryScanning {
  if (config.scanType === 'BASIC' && config.rules.length === 0) {
    return {
      scanType: 'BASIC',
      scanFrequency: repo.scanOnPush ? 'SCAN_ON_PUSH' : 'MANUAL',
      scanOnPush: repo.scanOnPush,
      appliedScanFilters: [],
    };
  }
  for (const frequency of ['CONTINUOUS_SCAN', 'SCAN_ON_PUSH'] as const) {
    const applied = config.rules
      .filter((r) => r.scanFrequency === frequency)
      .flatMap((r) => r.repositoryFilters)
      .filter((f) => filterMatches(f, repo.name));
    if (applied.length > 0) return { scanType: config.scanType, scanFrequency: frequency, scanOnPush: true, appliedScanFilters: applied };
  }
  return { scanType: config.scanType, scanFrequency: 'MANUAL', scanOnPush: false, appliedScanFilters: [] };
}
