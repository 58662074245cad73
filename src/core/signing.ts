// Image signing configuration as ECR has it (PutSigningConfiguration): rules, each naming a signing profile and
// optional WILDCARD_MATCH repository filters (none: every repository), kept per account in the settings table. A
// pushed image is signed by the profile of every rule that matches its repository. Pure but for the settings calls.
import type { SettingsStore } from '../storage/meta/store.ts';
import { compileTagPattern, matchesCompiledPattern } from './tag-pattern.ts';

export interface SigningRepositoryFilter {
  filter: string;
  filterType: 'WILDCARD_MATCH';
}

export interface SigningRule {
  signingProfileArn: string;
  repositoryFilters?: SigningRepositoryFilter[];
}

export interface SigningConfiguration {
  rules: SigningRule[];
}

const key = (accountId: string) => `account/${accountId}/signing_configuration`;

export async function getSigningConfiguration(meta: SettingsStore, accountId: string): Promise<SigningConfiguration | undefined> {
  const text = await meta.getSetting(key(accountId));
  return text ? (JSON.parse(text) as SigningConfiguration) : undefined;
}

/** Sets the configuration, or removes it (undefined). */
export async function putSigningConfiguration(
  meta: SettingsStore,
  accountId: string,
  config: SigningConfiguration | undefined,
): Promise<void> {
  await meta.setSetting(key(accountId), config ? JSON.stringify(config) : '');
}

/** The profiles (ARNs, each once, in rule order) that sign an image pushed to the repository. */
export function signingProfilesFor(config: SigningConfiguration | undefined, repositoryName: string): string[] {
  const arns: string[] = [];
  for (const rule of config?.rules ?? []) {
    const filters = rule.repositoryFilters ?? [];
    const matches = filters.length === 0 || filters.some((f) => matchesCompiledPattern(compileTagPattern(f.filter), repositoryName));
    if (matches && !arns.includes(rule.signingProfileArn)) arns.push(rule.signingProfileArn);
  }
  return arns;
}

/** A Berth signing profile's ARN, in the form ECR's model requires of `signingProfileArn` (AWS Signer's). */
export const signingProfileArn = (region: string, accountId: string, name: string) =>
  `arn:aws:signer:${region}:${accountId}:/signing-profiles/${name}`;

/** A signing profile's name: what ECR's model allows at the end of `signingProfileArn`, at most 64 characters. */
export const SIGNING_PROFILE_NAME = /^[a-zA-Z0-9_]{2,64}$/;
/** A signing profile's ARN (ECR's model pattern, with the parts captured). */
export const SIGNING_PROFILE_ARN = /^arn:aws(?:-[a-z]+)*:signer:([a-z0-9-]+):([0-9]{12}):\/signing-profiles\/([a-zA-Z0-9_]{2,})$/;

/** The account and name of a signing profile ARN, or undefined when it is not one. */
export function parseSigningProfileArn(arn: string): { region: string; accountId: string; name: string } | undefined {
  const m = SIGNING_PROFILE_ARN.exec(arn);
  return m ? { region: m[1], accountId: m[2], name: m[3] } : undefined;
}
