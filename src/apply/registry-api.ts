// The two APIs apply calls: the ECR API (repositories, their policies and tags, registry settings), which Amazon
// ECR answers too, and Berth's admin API (users and their policies), which only Berth has.
import { callEcr, EcrCallError, type EcrCredentials } from '../ecr/client.ts';
import { callServer, RemoteError } from '../cli/remote.ts';

export interface RegistryApi {
  ecr<T = Record<string, unknown>>(operation: string, input: object): Promise<T>;
  admin<T = Record<string, unknown>>(action: string, args: object): Promise<T>;
}

export function registryApi(url: string, creds: EcrCredentials): RegistryApi {
  return {
    ecr: (operation, input) => callEcr(url, creds, operation, input),
    admin: async (action, args) => (await callServer(url, action, args, creds.accessKeyId, creds.secretAccessKey)) as never,
  };
}

/** An ECR answer's value, or `fallback` when the ECR API answered with the exception `absent`. */
export async function unlessAbsent<T, F>(call: Promise<T>, absent: string, fallback: F): Promise<T | F> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof EcrCallError && e.type === absent) return fallback;
    throw e;
  }
}

/** Errors either API answers (the message says which call and what the registry said). */
export const isApiError = (e: unknown): e is Error => e instanceof EcrCallError || e instanceof RemoteError;

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
