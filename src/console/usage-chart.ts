// The chart of storage over time on the registry page: the daily usage snapshots (the usage-snapshot job) and
// today's figure, drawn as an inline SVG bar chart on the server (no script, no style attribute: the
// Content-Security-Policy allows neither inline), with its figures in a table for screen readers and copying.
import { html, type Html } from './html.ts';
import { bytes } from './layout.ts';
import type { UsageSnapshot } from '../storage/meta/store.ts';

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 70;
const BOTTOM = 24;

export function usageChart(points: Pick<UsageSnapshot, 'day' | 'storedBytes' | 'referencedBytes' | 'images'>[]): Html {
  if (points.length === 0) return html`<p class="muted" id="usage-chart">No usage recorded yet.</p>`;
  const max = Math.max(1, ...points.map((p) => p.storedBytes));
  const plotWidth = WIDTH - LEFT - 10;
  const plotHeight = HEIGHT - BOTTOM - 10;
  const step = plotWidth / points.length;
  const barWidth = Math.max(2, Math.min(40, step * 0.7));
  const bars = points.map((p, i) => {
    const h = Math.max(1, Math.round((p.storedBytes / max) * plotHeight));
    const x = Math.round(LEFT + i * step + (step - barWidth) / 2);
    return html`<rect class="bar" x="${x}" y="${10 + plotHeight - h}" width="${Math.round(barWidth)}" height="${h}"><title>${p.day}: ${bytes(p.storedBytes)} stored</title></rect>`;
  });
  const first = points[0].day;
  const last = points[points.length - 1].day;
  return html`<figure id="usage-chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="usage-chart-title" class="chart">
<title id="usage-chart-title">Storage over time, ${first} to ${last}: from ${bytes(points[0].storedBytes)} to ${bytes(points[points.length - 1].storedBytes)}</title>
<line class="axis" x1="${LEFT}" y1="10" x2="${LEFT}" y2="${10 + plotHeight}"></line>
<line class="axis" x1="${LEFT}" y1="${10 + plotHeight}" x2="${WIDTH - 10}" y2="${10 + plotHeight}"></line>
<text class="tick" x="${LEFT - 6}" y="16" text-anchor="end">${bytes(max)}</text>
<text class="tick" x="${LEFT - 6}" y="${10 + plotHeight}" text-anchor="end">0</text>
${bars}
<text class="tick" x="${LEFT}" y="${HEIGHT - 6}">${first}</text>
<text class="tick" x="${WIDTH - 10}" y="${HEIGHT - 6}" text-anchor="end">${last}</text>
</svg>
<figcaption class="muted">Stored bytes per day (UTC), from the daily usage snapshot; the last bar is now.</figcaption>
</figure>
<details><summary>Figures</summary>
<table id="usage-history"><thead><tr><th>Day</th><th>Stored</th><th>Referenced by images</th><th>Images</th></tr></thead><tbody>
${points.map((p) => html`<tr><td>${p.day}</td><td>${bytes(p.storedBytes)}</td><td>${bytes(p.referencedBytes)}</td><td>${p.images}</td></tr>`)}
</tbody></table>
</details>`;
}
