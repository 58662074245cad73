// Account settings, as ECR's GetAccountSetting / PutAccountSetting name them. Berth implements BLOB_MOUNTING
// (automatic cross-repository mounts) and BASIC_SCAN_TYPE_VERSION; REGISTRY_POLICY_SCOPE belongs to a feature
// Berth does not have. Stored per account in the settings table.
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
