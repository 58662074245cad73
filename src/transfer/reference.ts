// Image references as archives name them, turned into Berth repository names: the registry host is dropped, and
// Docker Hub's implicit `library/` with it (`docker.io/library/x:1` → `x:1`, `host:port/a/b:1` → `a/b:1`).

export interface Reference {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseReference(ref: string): Reference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    const domain = parts.shift()!;
    if (/^(index\.)?docker\.io$/.test(domain) && parts[0] === 'library' && parts.length === 2) parts.shift();
  }
  return { repository: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Whether an annotation's value names a whole reference (`x:1`, `a/b:1`) rather than only a tag (`1`). */
export function isFullReference(name: string): boolean {
  return name.includes('/') || name.includes(':') || name.includes('@');
}
