// A small client of the ECR API (AWS JSON 1.1, SigV4-signed POST /): what `berth import` (to create a repository)
// and `berth apply` call, on a Berth or on Amazon ECR itself. It runs in production, where the AWS SDK (a
// development dependency, for tests) is not installed.
import { createHmac } from 'node:crypto';
import { formatAmzDate, sha256hex, signingKey } from '../auth/sigv4.ts';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';

export interface EcrCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** A temporary credential's session token (AWS_SESSION_TOKEN), sent as X-Amz-Security-Token. */
  sessionToken?: string;
  region?: string;
}

/** An error the ECR API answered: its exception name (`RepositoryNotFoundException`, ...), status and message. */
export class EcrCallError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, status: number, message: string) {
    super(message);
    this.name = 'EcrCallError';
    this.type = type;
    this.status = status;
  }
}

/** Calls one ECR operation at `url` and returns its JSON answer, or throws an EcrCallError. */
export async function callEcr<T = Record<string, unknown>>(
  url: string,
  creds: EcrCredentials,
  operation: string,
  input: object,
): Promise<T> {
  const body = JSON.stringify(input);
  const res = await fetch(url, { method: 'POST', headers: signedHeaders(url, creds, body, `${ECR_TARGET_PREFIX}.${operation}`), body });
  const text = await res.text();
  let answer: { __type?: string; message?: string; Message?: string } = {};
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON: reported below with the status */
  }
  if (res.status === 200) return answer as T;
  // Some services qualify the name ("com.amazonaws.ecr#RepositoryNotFoundException").
  const type = String(answer.__type ?? `HTTP ${res.status}`)
    .split('#')
    .pop()!;
  throw new EcrCallError(type, res.status, `${operation}: ${type}: ${answer.message ?? answer.Message ?? text.slice(0, 200)}`);
}

/** The headers of a SigV4-signed call of `operation` with this JSON body (host left for the HTTP client to send). */
export function ecrRequestHeaders(url: string, creds: EcrCredentials, body: string, operation: string): Record<string, string> {
  return signedHeaders(url, creds, body, `${ECR_TARGET_PREFIX}.${operation}`);
}

function signedHeaders(url: string, creds: EcrCredentials, body: string, target: string): Record<string, string> {
  const region = creds.region ?? 'us-east-1';
  const amzDate = formatAmzDate(Date.now());
  const date = amzDate.slice(0, 8);
  const parsed = new URL(url);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: parsed.host,
    'x-amz-date': amzDate,
    'x-amz-target': target,
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    parsed.pathname || '/',
    '',
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    sha256hex(body),
  ].join('\n');
  const scope = `${date}/${region}/ecr/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const signature = createHmac('sha256', signingKey(creds.secretAccessKey, date, region, 'ecr'))
    .update(toSign)
    .digest('hex');
  const { host: _host, ...rest } = headers;
  return {
    ...rest,
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
