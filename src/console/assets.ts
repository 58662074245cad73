// The console's static assets: one style sheet and one small script (copy buttons, confirm-by-typing), kept here
// so that no build step or CDN is needed. Each is served under a name that carries its content's hash, cached for
// a year; a new version gets a new name.
import { createHash } from 'node:crypto';

const CSS = `
:root { color-scheme: light; --fg: #16191f; --muted: #5f6b7a; --line: #d1d5db; --accent: #0972d3; --bad: #d91515; --ok: #037f0c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: #f2f3f3; }
header.top { background: #232f3e; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1rem; align-items: center; }
header.top a { color: #fff; text-decoration: none; font-weight: 600; }
header.top .who { margin-left: auto; font-size: 12px; opacity: .9; }
header.top form { margin: 0; }
main { max-width: 1200px; margin: 1rem auto; padding: 0 1.2rem; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 1rem; } h2 { font-size: 1.15rem; margin: 0 0 .8rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
code, pre, textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
pre { background: #f6f8fa; padding: .6rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; } label.inline { display: inline; font-weight: normal; }
input[type=text], input[type=password], input[type=search], textarea, select { width: 100%; max-width: 40rem; padding: .4rem; border: 1px solid #8c8c94; border-radius: 4px; }
textarea { min-height: 14rem; max-width: none; }
button, .button { display: inline-block; padding: .35rem .9rem; border: 1px solid var(--accent); border-radius: 16px; background: #fff; color: var(--accent); font-weight: 600; cursor: pointer; text-decoration: none; font-size: 13px; }
button.primary, .button.primary { background: var(--accent); color: #fff; }
button.danger { border-color: var(--bad); color: var(--bad); }
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #f89256; outline-offset: 2px; }
.error { border: 1px solid var(--bad); background: #fff7f7; color: var(--bad); padding: .6rem .8rem; border-radius: 6px; margin-bottom: 1rem; white-space: pre-wrap; }
.notice { border: 1px solid var(--ok); background: #f2fcf3; color: var(--ok); padding: .6rem .8rem; border-radius: 6px; margin-bottom: 1rem; }
.muted { color: var(--muted); } .row { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
nav.tabs { display: flex; gap: .2rem; border-bottom: 2px solid var(--line); margin-bottom: 1rem; }
nav.tabs a { padding: .5rem .9rem; text-decoration: none; color: var(--fg); border-bottom: 3px solid transparent; margin-bottom: -2px; }
nav.tabs a[aria-current=page] { border-bottom-color: var(--accent); color: var(--accent); font-weight: 600; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; } dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; }
.copy { margin-left: .4rem; padding: .1rem .5rem; font-size: 12px; }
details { margin: .6rem 0; } summary { cursor: pointer; font-weight: 600; }
.pager { margin-top: .8rem; }
form.inline-form { display: inline; margin: 0 .2rem; }
.grow { margin-right: auto; } .narrow { max-width: 32rem; margin: 2rem auto; } textarea.short { min-height: 5rem; max-width: 40rem; }
.sev { display: inline-block; padding: 0 .4rem; border-radius: 8px; font-size: 12px; font-weight: 600; margin-right: .2rem; background: #e9ebed; }
.sev-critical { background: #7d1a1a; color: #fff; } .sev-high { background: #d91515; color: #fff; } .sev-medium { background: #f89256; }
.sev-low { background: #fbd332; } .scan-status { font-weight: 600; margin-right: .3rem; }
tr.child-row td { background: #fafafa; } tr.child-row[hidden] { display: none; } td.platform { padding-left: 1.4rem; }
button.expand { padding: .05rem .5rem; font-size: 12px; margin-right: .3rem; }
.json-error { border: 1px solid var(--bad); border-radius: 6px; padding: .2rem .8rem; margin: .4rem 0; background: #fff7f7; }
.json-error pre { background: #fff; } .bad-line { background: #ffd7d7; display: inline-block; width: 100%; } .line-number { color: var(--muted); user-select: none; }
svg.chart { width: 100%; max-width: 720px; height: auto; } svg.chart .bar { fill: var(--accent); } svg.chart .axis { stroke: #8c8c94; }
svg.chart .tick { font-size: 11px; fill: var(--muted); } h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
.allowed { color: var(--ok); font-weight: 600; } .denied { color: var(--bad); font-weight: 600; }
input.w24 { max-width: 24rem; } input.w16 { max-width: 16rem; } input.w14 { max-width: 14rem; } select.w12 { max-width: 12rem; }
`;

const JS = `
// Copy buttons: <button data-copy="text">. Confirm-by-typing: <input data-confirm="name"> enables the form's
// submit button only when the name is typed.
document.addEventListener('click', (e) => {
  const b = e.target.closest && e.target.closest('button[data-copy]');
  if (!b) return;
  e.preventDefault();
  const done = () => { const t = b.textContent; b.textContent = 'Copied'; setTimeout(() => { b.textContent = t; }, 1200); };
  if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.copy).then(done, () => {});
});
// An index's platforms: rows hidden until its button expands them (without the script they are all shown).
for (const b of document.querySelectorAll('button.expand')) {
  const rows = b.getAttribute('aria-controls').split(' ').map((id) => document.getElementById(id)).filter(Boolean);
  const set = (open) => { b.setAttribute('aria-expanded', String(open)); for (const r of rows) r.hidden = !open; };
  set(false);
  b.addEventListener('click', () => set(b.getAttribute('aria-expanded') !== 'true'));
}
// A JSON editor whose save was refused: the cursor on the line of the error.
for (const t of document.querySelectorAll('textarea[data-error-line]')) {
  const lines = t.value.split('\\n');
  const line = Number(t.dataset.errorLine);
  let at = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
  at += Math.max(0, Number(t.dataset.errorColumn) - 1);
  t.focus();
  t.setSelectionRange(at, at);
}
for (const input of document.querySelectorAll('input[data-confirm]')) {
  const submit = input.form.querySelector('button[type=submit]');
  const check = () => { submit.disabled = input.value !== input.dataset.confirm; };
  input.addEventListener('input', check);
  check();
}
`;

function fingerprinted(name: string, ext: string, body: string, type: string) {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/console/static/${name}.${hash}.${ext}`, body: Buffer.from(body), type };
}

export const ASSETS = {
  css: fingerprinted('console', 'css', CSS, 'text/css; charset=utf-8'),
  js: fingerprinted('console', 'js', JS, 'text/javascript; charset=utf-8'),
};

export function assetAt(path: string) {
  return Object.values(ASSETS).find((a) => a.path === path);
}
