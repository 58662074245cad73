// Account settings, as ECR's GetAccountSetting / PutAccountSetting name them: every one of ECR's names, BLOB_MOUNTING
// (automatic cross-repository mounts), BASIC_SCAN_TYPE_VERSION and REGISTRY_POLICY_SCOPE. Stored per account in
// the settings table.
import type { MetaStore } from '../storage/meta/store.ts';

/** Every setting name ECR accepts. */
export const ECR_ACCOUNT_SETTING_NAMES = ['BASIC_SCAN_TYPE_VERSION', 'REGISTRY_POLICY_SCOPE', 'BLOB_MOUNTING'] as const;

/** The settings Berth implements: their values, and the value of an account that never set one. */
export const ACCOUNT_SETTINGS: Record<string, { values: readonly string[]; default: string }> = {
  // ECR's default is DISABLED; Berth's is ENABLED, because docker relies on cross-repository mounts (README).
  BLOB_MOUNTING: { values: ['ENABLED', 'DISABLED'], default: 'ENABLED' },
  // The basic scanning engine ECR names (AWS_NATIVE, the default since 2025, or the former CLAIR): accepted and
  // reported; Berth's own scanner answers for both.
  BASIC_SCAN_TYPE_VERSION: { values: ['AWS_NATIVE', 'CLAIR'], default: 'AWS_NATIVE' },
  // Which actions the registry policy (PutRegistryPolicy) covers: V2 (ECR's default for new registries) every ECR
  // action, V1 only replication and pull-through cache (ecr:ReplicateImage, ecr:BatchImportUpstreamImage,
  // ecr:CreateRepository). The authorizer reads it with the policy (src/auth/authorizer.ts).
  REGISTRY_POLICY_SCOPE: { values: ['V1', 'V2'], default: 'V2' },
};

const key = (accountId: string, name: string) => `account/${accountId}/${name}`;

/** The setting's value for the account (its default when never set). `name` must be one of ACCOUNT_SETTINGS. */
export async function getAccountSetting(meta: MetaStore, accountId: string, name: string): Promise<string> {
  return (await meta.getSetting(key(accountId, name))) ?? ACCOUNT_SETTINGS[name].default;
}

/** Sets the value, already checked against ACCOUNT_SETTINGS. */
export async function putAccountSetting(meta: MetaStore, accountId: string, name: string, value: string): Promise<void> {
  await meta.setSetting(key(accountId, name), value);
}
