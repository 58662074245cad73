// ECR account settings: GetAccountSetting and PutAccountSetting, on the caller's registry (authorized by the
// dispatcher, src/ecr/operations.ts). Berth implements every name ECR has: BLOB_MOUNTING (ENABLED by default,
// where ECR's default is DISABLED: see the README), BASIC_SCAN_TYPE_VERSION (accepted and reported) and REGISTRY_POLICY_SCOPE
// (which actions the registry policy takes part in: src/auth/authorizer.ts); any other name is refused with ValidationException.
import type {
  GetAccountSettingRequest,
  GetAccountSettingResponse,
  PutAccountSettingRequest,
  PutAccountSettingResponse,
} from '@aws-sdk/client-ecr';
import {
  ACCOUNT_SETTINGS,
  ECR_ACCOUNT_SETTING_NAMES,
  getAccountSetting as read,
  putAccountSetting as write,
} from '../core/account-settings.ts';
import type { EcrContext, Wire } from './context.ts';
import { EcrError } from './errors.ts';

export async function getAccountSetting(ctx: EcrContext, input: GetAccountSettingRequest): Promise<Wire<GetAccountSettingResponse>> {
  const account = ctx.authorized.registryId;
  const name = settingName(input.name!);
  return { name, value: await read(ctx.registry.meta, account, name) };
}

export async function putAccountSetting(ctx: EcrContext, input: PutAccountSettingRequest): Promise<Wire<PutAccountSettingResponse>> {
  const account = ctx.authorized.registryId;
  const name = settingName(input.name!);
  const value = input.value!;
  const { values } = ACCOUNT_SETTINGS[name];
  if (!values.includes(value)) {
    throw validation(`Invalid value '${value}' for the account setting ${name}: valid values are ${values.join(', ')}`);
  }
  await write(ctx.registry.meta, account, name, value);
  if (name === 'REGISTRY_POLICY_SCOPE') ctx.authorizer.forgetRegistryPolicy(account);
  return { name, value };
}

/** A name Berth implements, or ValidationException. */
function settingName(name: string): string {
  if (Object.hasOwn(ACCOUNT_SETTINGS, name)) return name;
  if ((ECR_ACCOUNT_SETTING_NAMES as readonly string[]).includes(name)) {
    throw validation(`The account setting ${name} is not supported by Berth: it supports ${Object.keys(ACCOUNT_SETTINGS).join(', ')}`);
  }
  throw validation(`Invalid account setting name '${name}': valid names are ${ECR_ACCOUNT_SETTING_NAMES.join(', ')}`);
}

const validation = (message: string) => new EcrError('ValidationException', message);
