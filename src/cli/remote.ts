// Calling the running server's admin API as the default account's root (see src/server/presence.ts).

/** The server refused the action (its status and message). */
export class RemoteError extends Error {}

export async function callServer(url: string, action: string, args: object, accessKeyId: string, secret: string): Promise<unknown> {
  const res = await fetch(`${url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${accessKeyId}:${secret}`).toString('base64') },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { message?: string };
  if (!res.ok) throw new RemoteError(`the server at ${url} answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
  return body;
}
