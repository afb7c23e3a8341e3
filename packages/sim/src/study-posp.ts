import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfermarketError, type Scenario } from '@infermarket/protocol';
import { ADAPTIVE_DEFAULTS } from '@infermarket/agents';
import { applyOverrides } from './overrides.js';
import { runSweep } from './run-sweep.js';
import { parseSweepParam } from './sweep-plan.js';
import type { SweepRow } from './sweep-row.js';
import { THRESHOLD_METRIC } from './sweep-threshold.js';
import { scenarioThreshold } from './threshold.js';
import type { ThresholdEstimate } from './threshold-fit.js';

/** The study's fixed design: audit rates as multiples of each point's analytic p*, seeds per rate. Same for every point (no tuning per point). */
export const POSP_STUDY_DESIGN = Object.freeze({
  full: { multipliers: [0.3, 0.5, 0.7, 0.85, 1, 1.15, 1.3, 1.6, 2.5], seeds: 6, durationMs: null as number | null },
  quick: { multipliers: [0.3, 1, 3], seeds: 2, durationMs: 3_000 as number | null },
  /** A measured threshold "agrees" with p* when the ratio is within ±5 %. */
  tolerance: 0.05,
});

export interface StudyScenario {
  /** Where it came from (recorded in the output). */
  file: string;
  scenario: Scenario;
}

export interface RunPospStudyOptions {
  scenarios: StudyScenario[];
  outDir: string;
  quick?: boolean;
  /** Seeds per audit rate (default from the design). */
  seeds?: number;
  /** Worker threads per sweep (default all cores; 0 = this thread). */
  workers?: number;
  /** The adaptive miners' learner for every point (`sim.adaptive.learner`; default: what each scenario says). */
  learner?: string;
  onProgress?: (p: { point: number; points: number; name: string; done: number; total: number }) => void;
}

/** One (C, R, S, r) point of the study: its analytic terms and what was measured. */
export interface PospStudyPoint {
  name: string;
  file: string;
  computeCostMicro: number;
  rewardMicro: number;
  slashMicro: number;
  slashOverReward: number;
  colludingShare: number;
  detectionGivenAudit: number;
  pStar: number;
  auditRates: number[];
  seeds: number;
  masterSeed: number;
  durationMs: number;
  measured: ThresholdEstimate;
  /** measured ÷ p\*, with the CI divided the same way; null with the reason. */
  ratio: { value: number; ci95: { lo: number; hi: number } | null } | null;
  ratioReason: string | null;
  /** |ratio − 1| ≤ tolerance; null when there is no ratio. */
  withinTolerance: boolean | null;
  /** Mean adaptive cheat rate per audit rate (for the figure). */
  curve: { auditRate: number; meanCheatRate: number | null; runs: number }[];
  sweepDir: string;
}

export interface PospStudyResult {
  quick: boolean;
  learner: string;
  points: PospStudyPoint[];
  wallMs: number;
}

const sig = (x: number, d = 4): number => Number(x.toPrecision(d));

/** The learner and the knobs it reads, in words (the defaults filled in from `ADAPTIVE_DEFAULTS`). */
export function learnerLabel(a: NonNullable<NonNullable<Scenario['sim']>['adaptive']> & { priorWeightSlashes?: number }): string {
  const name = a.learner ?? ADAPTIVE_DEFAULTS.learner;
  const levels = JSON.stringify(a.cheatLevels ?? ADAPTIVE_DEFAULTS.cheatLevels);
  if (name === 'epsilon-greedy') return `epsilon-greedy learner (epsilon ${a.epsilon ?? ADAPTIVE_DEFAULTS.epsilon}, cheat levels ${levels})`;
  if (name === 'bayes') return `bayes learner (the public rules' prior worth ${a.priorWeightSlashes ?? ADAPTIVE_DEFAULTS.priorWeightSlashes} slashes; plays its lowest and highest of the cheat levels ${levels})`;
  if (name === 'rational') return `rational learner (flat prior; plays its lowest and highest of the cheat levels ${levels})`;
  return `${name} learner (cheat levels ${levels})`;
}

/**
 * The PoSP threshold study, reproducible by one command: for each scenario (a (C, R, S, r) point), the analytic
 * p\* from `scenarioThreshold`, a sweep of `auditRate` over fixed multiples of it with seeds, and the measured
 * ½-crossing of the adaptive cheat rate with its bootstrap CI. Writes `<outDir>/<scenario>/` (the sweeps),
 * `study.json`, `study.md` (the table) and `cheat-rate.svg` (every point's curve against audit rate ÷ p\*).
 * @throws InfermarketError `ERR_BAD_SCENARIO` when a scenario has no adaptive miners or more than one p\*.
 */
export async function runPospStudy(o: RunPospStudyOptions): Promise<PospStudyResult> {
  const t0 = performance.now();
  const design = o.quick ? POSP_STUDY_DESIGN.quick : POSP_STUDY_DESIGN.full;
  const seeds = o.seeds ?? design.seeds;
  mkdirSync(o.outDir, { recursive: true });
  const points: PospStudyPoint[] = [];
  let learner = '';
  for (const [i, s] of o.scenarios.entries()) {
    const timed = design.durationMs !== null ? applyOverrides(s.scenario, { durationMs: design.durationMs }) : s.scenario;
    // the same learner settings for every point: the scenario's, or the one the caller names
    const scenario: Scenario = o.learner ? { ...timed, sim: { ...timed.sim, adaptive: { ...timed.sim?.adaptive, learner: o.learner } } } : timed;
    const theory = scenarioThreshold(scenario);
    const adaptiveRows = theory.rows.filter((r) => r.strategy === 'adaptive');
    if (adaptiveRows.length === 0) throw new InfermarketError('ERR_BAD_SCENARIO', `${s.file}: the study needs adaptive miners`, { details: { field: 'miners' } });
    const pStars = new Set(adaptiveRows.map((r) => r.threshold.pStar));
    const row = adaptiveRows[0]!;
    const pStar = row.threshold.pStar;
    if (pStars.size !== 1 || pStar === null || !(pStar > 0)) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `${s.file}: the adaptive miners must share one analytic p* > 0, got ${[...pStars].join(', ')}`, { details: { field: 'miners' } });
    }
    const adaptive = scenario.sim?.adaptive ?? {};
    learner = learnerLabel(adaptive);
    const auditRates = [...new Set(design.multipliers.map((m) => Math.min(1, sig(m * pStar))))];
    const sweepDir = join(o.outDir, scenario.name);
    const result = await runSweep({
      scenario,
      params: [parseSweepParam(`auditRate=${auditRates.join(',')}`)],
      seeds,
      outDir: sweepDir,
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
      onProgress: (p) => o.onProgress?.({ point: i + 1, points: o.scenarios.length, name: scenario.name, done: p.done, total: p.total }),
    });
    if (result.failed.length) {
      throw new InfermarketError('ERR_INTERNAL', `${s.file}: ${result.failed.length} runs failed, e.g. ${result.failed[0]!.key}: ${result.failed[0]!.message}`);
    }
    const th = result.thresholds[0];
    if (!th) throw new InfermarketError('ERR_INTERNAL', `${s.file}: the sweep produced no threshold (no adaptive cheat rate in any run)`);
    const curve = auditRates.map((a) => {
      const ys = result.rows.filter((r: SweepRow) => r.auditRate === a).map((r) => r[THRESHOLD_METRIC]).filter((y): y is number => typeof y === 'number');
      return { auditRate: a, meanCheatRate: ys.length ? ys.reduce((x, y) => x + y, 0) / ys.length : null, runs: ys.length };
    });
    const terms = row.threshold.terms;
    const ratio = th.measured.threshold !== null ? { value: th.measured.threshold / pStar, ci95: th.measured.ci95 ? { lo: th.measured.ci95.lo / pStar, hi: th.measured.ci95.hi / pStar } : null } : null;
    points.push({
      name: scenario.name,
      file: s.file,
      computeCostMicro: terms.computeCostMicro,
      rewardMicro: terms.rewardMicro,
      slashMicro: terms.slashMicro,
      slashOverReward: terms.slashMicro / terms.rewardMicro,
      colludingShare: terms.colludingShare,
      detectionGivenAudit: terms.detectionGivenAudit,
      pStar,
      auditRates,
      seeds,
      masterSeed: result.plan.masterSeed,
      durationMs: scenario.durationMs,
      measured: th.measured,
      ratio,
      ratioReason: ratio ? null : `no measured threshold: ${th.measured.reason}`,
      withinTolerance: ratio ? Math.abs(ratio.value - 1) <= POSP_STUDY_DESIGN.tolerance : null,
      curve,
      sweepDir: scenario.name,
    });
  }
  const out: PospStudyResult = { quick: o.quick === true, learner, points, wallMs: performance.now() - t0 };
  writeFileSync(join(o.outDir, 'study.json'), `${JSON.stringify({ ...out, wallMs: undefined }, null, 2)}\n`);
  writeFileSync(join(o.outDir, 'study.md'), studyMarkdown(out));
  writeFileSync(join(o.outDir, 'cheat-rate.svg'), studySvg(out));
  return out;
}

const f4 = (x: number): string => String(sig(x, 4));

/** The study's table in markdown. */
export function studyMarkdown(r: PospStudyResult): string {
  const lines = [
    '| point | C / R / S (micro-mUSD) | S/R | r | detection per audit | analytic p* | measured threshold [95 % CI] | measured / p* [95 % CI] | within ±5 % |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of r.points) {
    const m = p.measured;
    const measured = m.threshold === null ? `none: ${m.reason}` : `${f4(m.threshold)} ${m.ci95 ? `[${f4(m.ci95.lo)}, ${f4(m.ci95.hi)}]` : `(no CI: ${m.ciReason})`}`;
    const ratio = p.ratio ? `${p.ratio.value.toFixed(3)} ${p.ratio.ci95 ? `[${p.ratio.ci95.lo.toFixed(3)}, ${p.ratio.ci95.hi.toFixed(3)}]` : ''}` : `— (${p.ratioReason})`;
    lines.push(
      `| ${p.name} | ${Math.round(p.computeCostMicro)} / ${Math.round(p.rewardMicro)} / ${Math.round(p.slashMicro)} | ${p.slashOverReward.toFixed(2)} | ${p.colludingShare} | ${p.detectionGivenAudit.toFixed(4)} | ${f4(p.pStar)} | ${measured} | ${ratio} | ${p.withinTolerance === null ? '—' : p.withinTolerance ? 'yes' : 'no'} |`,
    );
  }
  const p0 = r.points[0];
  lines.push('');
  lines.push(
    `Learner: ${r.learner}. ${p0 ? `${p0.seeds} seeds per audit rate (master seed ${p0.masterSeed}), ${p0.auditRates.length} audit rates per point at fixed multiples of p*, ${p0.durationMs / 1000} s of virtual time per run.` : ''}${r.quick ? ' QUICK MODE: too small to measure anything; a smoke test only.' : ''}`,
  );
  lines.push('Measured threshold: where a logistic fit (on log audit rate) of the per-run adaptive cheat rate crosses ½; 95 % CI by percentile bootstrap over seeds (1,000 resamples, seed 2405).');
  return `${lines.join('\n')}\n`;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const escXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Every point's mean adaptive cheat rate against audit rate ÷ its analytic p* (log x), p* dashed at 1, measured crossings with CIs at ½. */
export function studySvg(r: PospStudyResult): string {
  const W = 720;
  const H = 420;
  const L = 60;
  const T = 30;
  const PW = 460;
  const PH = 320;
  const xmin = Math.log(0.2);
  const xmax = Math.log(4);
  const X = (v: number): number => L + ((Math.log(Math.max(0.2, Math.min(4, v))) - xmin) / (xmax - xmin)) * PW;
  const Y = (v: number): number => T + (1 - v) * PH;
  const el: string[] = [];
  el.push(`<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>`);
  for (const t of [0.25, 0.5, 1, 2, 4]) el.push(`<line x1="${X(t)}" y1="${T + PH}" x2="${X(t)}" y2="${T + PH + 5}" stroke="#333"/><text x="${X(t)}" y="${T + PH + 18}" font-size="11" text-anchor="middle">${t}</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) el.push(`<line x1="${L - 5}" y1="${Y(t)}" x2="${L}" y2="${Y(t)}" stroke="#333"/><text x="${L - 8}" y="${Y(t) + 4}" font-size="11" text-anchor="end">${t}</text>`);
  el.push(`<line x1="${X(1)}" y1="${T}" x2="${X(1)}" y2="${T + PH}" stroke="#000" stroke-dasharray="6 4"/><text x="${X(1) + 4}" y="${T + 12}" font-size="11">analytic p*</text>`);
  el.push(`<line x1="${L}" y1="${Y(0.5)}" x2="${L + PW}" y2="${Y(0.5)}" stroke="#ccc"/>`);
  el.push(`<text x="${L + PW / 2}" y="${H - 8}" font-size="12" text-anchor="middle">audit rate ÷ analytic p* (log scale)</text>`);
  el.push(`<text x="14" y="${T + PH / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${T + PH / 2})">adaptive cheat rate (2nd half of run)</text>`);
  r.points.forEach((p, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = p.curve.filter((q) => q.meanCheatRate !== null).map((q) => `${X(q.auditRate / p.pStar).toFixed(1)},${Y(q.meanCheatRate!).toFixed(1)}`);
    el.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const q of pts) el.push(`<circle cx="${q.split(',')[0]}" cy="${q.split(',')[1]}" r="2.5" fill="${c}"/>`);
    const m = p.measured;
    const yTick = Y(0.5) + (i - (r.points.length - 1) / 2) * 6;
    if (m.ci95) el.push(`<line x1="${X(m.ci95.lo / p.pStar)}" y1="${yTick}" x2="${X(m.ci95.hi / p.pStar)}" y2="${yTick}" stroke="${c}" stroke-width="2"/>`);
    if (m.threshold !== null) el.push(`<circle cx="${X(m.threshold / p.pStar)}" cy="${yTick}" r="4" fill="white" stroke="${c}" stroke-width="2"/>`);
    const label = `${p.name}: p* ${f4(p.pStar)}, measured ${m.threshold === null ? 'none' : f4(m.threshold)}`;
    el.push(`<line x1="${L + PW + 14}" y1="${T + 10 + i * 18}" x2="${L + PW + 30}" y2="${T + 10 + i * 18}" stroke="${c}" stroke-width="2"/><text x="${L + PW + 34}" y="${T + 14 + i * 18}" font-size="10">${escXml(label)}</text>`);
  });
  el.push(`<text x="${L}" y="${T - 10}" font-size="13">Where adaptive miners stop cheating: measured ½-crossings (○, 95 % CI bars) vs the protocol's p*${r.quick ? ' — QUICK MODE' : ''}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 180}" height="${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${el.join('\n')}\n</svg>\n`;
}
