// Which scanning applies to a repository (src/core/scanning.ts), as ECR decides it: the repository's own scanOnPush
// under BASIC with no rules; otherwise the registry's rules by WILDCARD filter, CONTINUOUS_SCAN over SCAN_ON_PUSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repositoryScanning, type RegistryScanningConfiguration } from '../../src/core/scanning.ts';

const wildcard = (filter: string) => ({ filter, filterType: 'WILDCARD' as const });

test('BASIC with no rules: the repository scanOnPush decides', () => {
  const basic: RegistryScanningConfiguration = { scanType: 'BASIC', rules: [] };
  assert.deepEqual(repositoryScanning(basic, { name: 'app', scanOnPush: true }), {
    scanType: 'BASIC',
    scanFrequency: 'SCAN_ON_PUSH',
    scanOnPush: true,
    appliedScanFilters: [],
  });
  assert.deepEqual(repositoryScanning(basic, { name: 'app', scanOnPush: false }), {
    scanType: 'BASIC',
    scanFrequency: 'MANUAL',
    scanOnPush: false,
    appliedScanFilters: [],
  });
});

test('with rules, the registry decides: a repository scanOnPush outside every filter is not scanned on push', () => {
  const basic: RegistryScanningConfiguration = {
    scanType: 'BASIC',
    rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [wildcard('prod-*')] }],
  };
  assert.equal(repositoryScanning(basic, { name: 'prod-api', scanOnPush: false }).scanFrequency, 'SCAN_ON_PUSH');
  assert.deepEqual(repositoryScanning(basic, { name: 'dev-api', scanOnPush: true }), {
    scanType: 'BASIC',
    scanFrequency: 'MANUAL',
    scanOnPush: false,
    appliedScanFilters: [],
  });
});

test('ENHANCED: CONTINUOUS_SCAN wins over SCAN_ON_PUSH; * matches any run of characters, slashes included', () => {
  const enhanced: RegistryScanningConfiguration = {
    scanType: 'ENHANCED',
    rules: [
      { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [wildcard('*')] },
      { scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [wildcard('team/*/api'), wildcard('nomatch')] },
    ],
  };
  assert.deepEqual(repositoryScanning(enhanced, { name: 'team/a/b/api', scanOnPush: false }), {
    scanType: 'ENHANCED',
    scanFrequency: 'CONTINUOUS_SCAN',
    scanOnPush: true,
    appliedScanFilters: [wildcard('team/*/api')],
  });
  assert.deepEqual(repositoryScanning(enhanced, { name: 'team/api-x', scanOnPush: false }), {
    scanType: 'ENHANCED',
    scanFrequency: 'SCAN_ON_PUSH',
    scanOnPush: true,
    appliedScanFilters: [wildcard('*')],
  });
});
