// The frame of every console page: the header (who is signed in, sign out), the title, messages, the content.
import type { Principal } from '../auth/principal.ts';
import { ASSETS } from './assets.ts';
import { html, type Html } from './html.ts';

export interface Viewer {
  principal: Principal;
  /** The CSRF token every form of this session carries. */
  csrf: string;
}

export interface PageParts {
  title: string;
  viewer?: Viewer;
  /** An error shown above the content (an ECR error: the exception's name and message). */
  error?: string;
  notice?: string;
  body: Html;
}

export function layout(p: PageParts): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · Berth</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS.css.path}">
<script src="${ASSETS.js.path}" defer></script>
</head>
<body>
<header class="top">
  <a href="/console/repositories">Berth</a>
  ${
    p.viewer
      ? html`<a href="/console/repositories">Repositories</a>
  <a href="/console/users">Users</a>
  <a href="/console/registry">Registry</a>
  <a href="/console/audit">Audit</a>
  <span class="who">Signed in as <span id="principal">${p.viewer.principal.arn}</span></span>
  <form method="post" action="/console/sign-out">${csrfField(p.viewer)}<button type="submit">Sign out</button></form>`
      : ''
  }
</header>
<main>
${p.error ? html`<div class="error" role="alert" id="error">${p.error}</div>` : ''}
${p.notice ? html`<div class="notice" role="status" id="notice">${p.notice}</div>` : ''}
${p.body}
</main>
</body>
</html>
`;
}

export function csrfField(viewer: Viewer): Html {
  return html`<input type="hidden" name="_csrf" value="${viewer.csrf}">`;
}

export function copyButton(text: string, label = 'Copy'): Html {
  return html`<button type="button" class="copy" data-copy="${text}" aria-label="${label}: ${text}">${label}</button>`;
}

/** An ECR timestamp (epoch seconds) as a UTC date and time. */
export function when(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
