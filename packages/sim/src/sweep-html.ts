import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SweepMeta } from './run-sweep.js';
import type { SweepSummaryPoint } from './sweep-summary.js';
import type { SweepThreshold } from './sweep-threshold.js';

/** A vertical line on the sweep's line plots at `x` of the first parameter (e.g. a predicted threshold). */
export interface SweepMarker {
  label: string;
  x: number;
}

/** Metrics plotted, in this order, when they have values. */
const PLOTTED = [
  'adaptiveCheatRate',
  'adaptiveLearnedLevel',
  'cheatRate',
  'adaptiveProfitPerJobMicro',
  'honestProfitPerJobMicro',
  'cheaterProfitPerJobMicro',
  'detectionRate',
  'detectionLatencyMs',
  'falseSlashes',
  'successRate',
  'costPerThousandMicro',
  'latencyP95Ms',
];

let uplotCache: { js: string; css: string } | null = null;
function uplotAssets(): { js: string; css: string } {
  if (!uplotCache) {
    const require = createRequire(import.meta.url);
    uplotCache = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return uplotCache;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A self-contained HTML page for a sweep (uPlot inlined, no network): lines with 95% CI bands over the
 * first parameter (one line per combination of the others), a heatmap per metric over the first two
 * parameters, and the summary table.
 */
export function renderSweepHtml(input: { meta: SweepMeta; summary: SweepSummaryPoint[]; thresholds?: SweepThreshold[] }): string {
  const { meta, summary } = input;
  const { js, css } = uplotAssets();
  const metrics = PLOTTED.filter((m) => summary.some((p) => p.metrics[m]));
  // per group: the analytic p* (dashed) and the measured ½-crossing with its CI (solid, shaded), in the group's colour
  const thresholds = (input.thresholds ?? []).map((t) => ({
    group: Object.entries(t.group).map(([k, v]) => `${k}=${v}`).join(', '),
    analytic: t.analytic?.[0]?.pStar ?? null,
    analyticText: t.analytic ? t.analytic.map((a) => (a.pStar === null ? `none (${a.reason})` : a.pStar.toPrecision(4))).join(' / ') : `— (${t.analyticReason})`,
    measured: t.measured.threshold,
    measuredText: t.measured.threshold === null ? `none (${t.measured.reason})` : t.measured.threshold.toPrecision(4),
    lo: t.measured.ci95?.lo ?? null,
    hi: t.measured.ci95?.hi ?? null,
    ciText: t.measured.ci95 ? `[${t.measured.ci95.lo.toPrecision(4)}, ${t.measured.ci95.hi.toPrecision(4)}]` : `— (${t.measured.ciReason})`,
    ratioText: t.ratio ? `${t.ratio.value.toFixed(3)}${t.ratio.ci95 ? ` [${t.ratio.ci95.lo.toFixed(3)}, ${t.ratio.ci95.hi.toFixed(3)}]` : ''}` : `— (${t.ratioReason})`,
    runs: t.measured.runs,
    without: t.runsWithoutData,
  }));
  const data = JSON.stringify({ params: meta.params.map((p) => p.name), metrics, summary, markers: meta.markers ?? [], thresholds }).replace(/</g, '\\u003c');
  const title = `Sweep of ${meta.scenario.name}`;
  const paramText = meta.params.map((p) => `${p.name} = ${p.values.join(', ')}`).join('; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${css}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;border-radius:6px;padding:8px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
.meta{color:#555}canvas.hm{image-rendering:pixelated}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(meta.mode)} sweep: ${esc(paramText)}; ${meta.seeds} seed(s) per point; master seed ${meta.masterSeed};
${summary.reduce((a, p) => a + p.runs, 0)} of ${meta.totalRuns} runs. Bands, ± and [lo, hi] are 95% confidence intervals of the mean over seeds: percentile bootstrap for rates (bounded to [0, 1]), Student t otherwise.</p>
<div id="thresholds"></div>
<div id="lines" class="grid"></div>
<div id="heat"></div>
<h2>Summary</h2><div id="table"></div>
<script>${js}</script>
<script>
const D = ${data};
const COLORS = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#7f7f7f'];
const P0 = D.params[0];
const numeric = D.summary.every(p => typeof p.values[P0] === 'number');
const xsAll = [...new Set(D.summary.map(p => p.values[P0]))];
if (numeric) xsAll.sort((a,b) => a-b);
const xOf = v => numeric ? v : xsAll.indexOf(v);
const others = D.params.slice(1);
const groupKey = p => others.map(n => n + '=' + p.values[n]).join(', ');
const groups = [...new Set(D.summary.map(groupKey))].slice(0, 8);
function markerPlugin() {
  return { hooks: { draw: u => {
    const ctx = u.ctx; ctx.save();
    D.thresholds.forEach((t, ti) => {
      const gi = Math.max(0, groups.indexOf(t.group));
      const c = COLORS[gi % COLORS.length];
      if (t.lo != null && t.hi != null) {
        const x0 = u.valToPos(t.lo, 'x', true), x1 = u.valToPos(t.hi, 'x', true);
        ctx.fillStyle = c + '22'; ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      }
      if (t.measured != null) {
        const x = u.valToPos(t.measured, 'x', true);
        ctx.strokeStyle = c; ctx.setLineDash([]); ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      }
      if (t.analytic != null) {
        const x = u.valToPos(t.analytic, 'x', true);
        ctx.strokeStyle = c; ctx.setLineDash([6,4]); ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        ctx.setLineDash([]); ctx.fillStyle = c; ctx.font = '11px sans-serif'; ctx.fillText('p*', x + 3, u.bbox.top + 12 + 12 * ti);
      }
    });
    for (const m of D.markers) {
      const x = u.valToPos(m.x, 'x', true);
      ctx.strokeStyle = '#000'; ctx.setLineDash([6,4]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.setLineDash([]); ctx.fillStyle = '#000'; ctx.font = '12px sans-serif'; ctx.fillText(m.label, x + 4, u.bbox.top + 14);
    }
    ctx.restore();
  } } };
}
for (const metric of D.metrics) {
  const xs = xsAll.map(xOf);
  const data = [xs]; const series = [{ label: P0 }]; const bands = [];
  groups.forEach((g, gi) => {
    const at = x => D.summary.find(p => groupKey(p) === g && xOf(p.values[P0]) === x);
    const mean = xs.map(x => { const m = at(x)?.metrics[metric]; return m ? m.mean : null; });
    const lo = xs.map(x => { const m = at(x)?.metrics[metric]; return m ? (m.lo ?? m.mean - m.ci95) : null; });
    const hi = xs.map(x => { const m = at(x)?.metrics[metric]; return m ? (m.hi ?? m.mean + m.ci95) : null; });
    const c = COLORS[gi % COLORS.length];
    const base = data.length;
    data.push(mean, hi, lo);
    series.push({ label: g || metric, stroke: c, width: 2, points: { show: true } },
                { label: '95% hi', stroke: c + '55', width: 1 }, { label: '95% lo', stroke: c + '55', width: 1 });
    bands.push({ series: [base + 1, base + 2], fill: c + '22' });
  });
  const div = document.createElement('div'); div.className = 'card';
  document.getElementById('lines').appendChild(div);
  const u = new uPlot({ title: metric + ' vs ' + P0, width: 520, height: 300, series, bands, plugins: [markerPlugin()],
    scales: { x: { time: false } }, legend: { show: groups.length > 1 || !!groups[0], live: false },
    axes: [{ label: P0, values: numeric ? undefined : (u, vals) => vals.map(v => xsAll[v] ?? '') }, { label: metric, size: 70 }] }, data, div);
  // the band edges are series too; keep them out of the legend
  for (const el of u.root.querySelectorAll('.u-legend .u-series')) if (/^95% (hi|lo)/.test(el.textContent.trim()) || el.textContent.trim().startsWith(P0)) el.remove();
}
if (D.params.length >= 2) {
  const P1 = D.params[1];
  const ys = [...new Set(D.summary.map(p => p.values[P1]))];
  const rest = D.params.slice(2);
  const fixed = D.summary[0] ? Object.fromEntries(rest.map(n => [n, D.summary[0].values[n]])) : {};
  const h = document.getElementById('heat');
  h.innerHTML = '<h2>Heatmaps over ' + P0 + ' × ' + P1 + (rest.length ? ' (' + rest.map(n => n + '=' + fixed[n]).join(', ') + ')' : '') + '</h2>';
  const grid = document.createElement('div'); grid.className = 'grid'; h.appendChild(grid);
  for (const metric of D.metrics) {
    const cell = (x, y) => D.summary.find(p => p.values[P0] === x && p.values[P1] === y && rest.every(n => p.values[n] === fixed[n]))?.metrics[metric]?.mean;
    const vals = xsAll.flatMap(x => ys.map(y => cell(x, y))).filter(v => v != null);
    if (!vals.length) continue;
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const cw = Math.max(24, Math.floor(420 / xsAll.length)), ch = Math.max(18, Math.floor(220 / ys.length));
    const card = document.createElement('div'); card.className = 'card';
    card.innerHTML = '<div><b>' + metric + '</b> (' + lo.toPrecision(3) + ' … ' + hi.toPrecision(3) + ')</div>';
    const cv = document.createElement('canvas'); cv.width = 90 + cw * xsAll.length; cv.height = 40 + ch * ys.length;
    card.innerHTML += '<div class="meta">rows: ' + P1 + '</div>';
    const ctx = cv.getContext('2d'); ctx.font = '11px sans-serif';
    ys.forEach((y, yi) => {
      ctx.fillStyle = '#000'; ctx.fillText(String(y), 2, 8 + yi * ch + ch / 2);
      xsAll.forEach((x, xi) => {
        const v = cell(x, y);
        const t = v == null ? null : (hi > lo ? (v - lo) / (hi - lo) : 0.5);
        ctx.fillStyle = t == null ? '#eee' : 'hsl(' + Math.round(240 - 240 * t) + ',70%,55%)';
        ctx.fillRect(90 + xi * cw, 4 + yi * ch, cw - 1, ch - 1);
        if (v != null && cw >= 40) { ctx.fillStyle = '#000'; ctx.fillText(Number(v.toPrecision(3)), 92 + xi * cw, 4 + yi * ch + ch / 2 + 4); }
      });
    });
    xsAll.forEach((x, xi) => { ctx.fillStyle = '#000'; ctx.fillText(String(x), 90 + xi * cw + 2, 18 + ys.length * ch); });
    ctx.fillText(P0, 90, 34 + ys.length * ch);
    card.appendChild(cv); grid.appendChild(card);
  }
}
if (D.thresholds.length && numeric) {
  const rows = D.thresholds.map(t => '<tr><td>' + (t.group || '(all)') + '</td><td>' + t.measuredText + '</td><td>' + t.ciText + '</td><td>' + t.analyticText + '</td><td>' + t.ratioText + '</td><td>' + t.runs + (t.without ? ' (+' + t.without + ' without data)' : '') + '</td></tr>');
  document.getElementById('thresholds').innerHTML = '<h2>Threshold: where the adaptive cheat rate crosses ½</h2><p class="meta">Logistic fit over per-run cheat rates, 95% CI by bootstrap over seeds. On the plots: solid line and shaded band = measured threshold and CI, dashed = the protocol&#39;s analytic p* (infermarket theory).</p><table><tr><th>group</th><th>measured</th><th>95% CI</th><th>analytic p*</th><th>measured / p*</th><th>runs</th></tr>' + rows.join('') + '</table>';
}
const t = ['<table><tr><th>point</th>' + D.params.map(n => '<th>' + n + '</th>').join('') + '<th>runs</th>' + D.metrics.map(m => '<th>' + m + '</th>').join('') + '</tr>'];
for (const p of D.summary) {
  t.push('<tr><td>' + p.point + '</td>' + D.params.map(n => '<td>' + p.values[n] + '</td>').join('') + '<td>' + p.runs + '</td>' +
    D.metrics.map(m => { const v = p.metrics[m]; return '<td>' + (!v ? '' : v.method === 'bootstrap' ? Number(v.mean.toPrecision(4)) + ' [' + Number(v.lo.toPrecision(3)) + ', ' + Number(v.hi.toPrecision(3)) + ']' : Number(v.mean.toPrecision(4)) + ' ± ' + Number(v.ci95.toPrecision(2))) + '</td>'; }).join('') + '</tr>');
}
t.push('</table>');
document.getElementById('table').innerHTML = t.join('');
document.body.dataset.ready = '1';
</script></body></html>
`;
}
