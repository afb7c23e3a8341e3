import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceError } from './errors.js';
import { VARIANTS } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { loadManifest, MODEL_IDS } from './manifest.js';
import type { LayerTolerance, Manifest, ModelEntry, ModelId } from './manifest.js';
import { rowDiffs } from './eval.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import { createRuntime, type Runtime } from './runtime.js';
import { sampleInput } from './sample-input.js';
import { createSegmentRunner, segmentBoundaries, type SegmentRunner } from './segments.js';
import { concatBatch, sliceBatch, type Tensor } from './tensor.js';

/**
 * Per-layer tolerances of the bisection game (issue #15; `infermarket models calibrate --layers`): for every
 * model with a layer trace × variant × hidden boundary, the worst honest max|Δ| at that boundary and the
 * nearest cheat's, and a tolerance between them by the margin rule below, recorded in the manifest as
 * `variants.<v>.layerTolerances`. `boundariesAgree`/`refereeVote` compare hidden boundaries under them.
 *
 * Honest variation (as `models eval` exercises for outputs): full runs at 1 and 2 intra-op threads, graph
 * optimisation `all` and `disabled`, batch N, batch 17 and batch 1 (every boundary compared with the 1-thread
 * batch-N run: what a challenger's own run sees at that depth, drift of the earlier layers included), and the
 * referee's re-execution of the one layer (a segment cut from the file, 1 and 2 threads, batch N and 1) from each
 * honest run's boundary k−1, against that run's boundary k. Cheats: every other variant's boundary k served as
 * this variant's, and layer k alone computed by another variant from this variant's boundary k−1.
 */

/** The margin both sides of a layer tolerance must keep (the output tolerance's smallest margin: 3.5× below the nearest cheat). */
export const LAYER_TOLERANCE_MIN_MARGIN = 3.5;
/** Batch rows of the chunked honest run (as `models eval`). */
const ODD_BATCH = 17;

/**
 * The margin rule: the geometric mean of the honest divergence (at least one float32 ulp of the boundary's largest
 * |activation|, so a bit-identical variant still gets a tolerance that is not 0) and the nearest cheat, rounded down
 * to one significant digit. `separated` when it keeps {@link LAYER_TOLERANCE_MIN_MARGIN} from both.
 */
export function layerToleranceBetween(opts: { honestMaxAbsDiff: number; nearestCheatMinMaxAbsDiff: number; maxAbsActivation: number }): { tolerance: number; separated: boolean } {
  const floor = Math.max(opts.honestMaxAbsDiff, opts.maxAbsActivation * 2 ** -23, 1e-12);
  const g = Math.sqrt(floor * opts.nearestCheatMinMaxAbsDiff);
  if (!Number.isFinite(g) || g <= 0) return { tolerance: floor * LAYER_TOLERANCE_MIN_MARGIN, separated: false };
  const p = 10 ** Math.floor(Math.log10(g));
  const tolerance = Number((Math.floor(g / p) * p).toPrecision(1));
  const separated = tolerance >= LAYER_TOLERANCE_MIN_MARGIN * opts.honestMaxAbsDiff && tolerance * LAYER_TOLERANCE_MIN_MARGIN <= opts.nearestCheatMinMaxAbsDiff;
  return { tolerance, separated };
}

/** Models whose results commit a layer trace (single input, at least one hidden boundary). */
export function tracedModels(manifest: Manifest): ModelId[] {
  return MODEL_IDS.filter((m) => {
    const e = manifest.models[m] as ModelEntry | undefined;
    return !!e && e.inputs.length === 1 && e.layerBoundaries.length > 0;
  });
}

/**
 * The tolerance of hidden boundary `index` (1..L−1) of `model`/`variant` from the manifest.
 * @throws InferenceError `ERR_VALIDATION` naming the model, variant and boundary, and the command that records it, when the manifest has none.
 */
export function layerToleranceOf(manifest: Manifest, model: ModelId, variant: Variant, index: number): number {
  const entry = manifest.models[model];
  const name = entry?.layerBoundaries[index - 1];
  if (!entry || name === undefined) throw new InferenceError('ERR_VALIDATION', `${model}/${variant}: boundary ${index} is not a hidden layer boundary (the model has ${entry?.layerBoundaries.length ?? 0})`);
  const t = entry.variants[variant]?.layerTolerances?.find((l) => l.boundary === name);
  if (!t || !(t.tolerance >= 0)) {
    throw new InferenceError(
      'ERR_VALIDATION',
      `models manifest: ${model}/${variant} has no layer tolerance for boundary "${name}" (variants.${variant}.layerTolerances); run "infermarket models calibrate --layers --models ${model}" to measure and record it`,
    );
  }
  return t.tolerance;
}

/**
 * Checks that `model`/`variant` records a tolerance for every hidden boundary (what a party of the bisection game
 * needs before it commits or judges a trace). @throws InferenceError `ERR_VALIDATION` as {@link layerToleranceOf}.
 */
export function assertLayerTolerances(manifest: Manifest, model: ModelId, variant: Variant): void {
  const entry = manifest.models[model];
  for (let k = 1; k <= (entry?.layerBoundaries.length ?? 0); k++) layerToleranceOf(manifest, model, variant, k);
}

export interface LayerCalibrateOptions {
  modelsDir?: string;
  models?: readonly ModelId[];
  variants?: readonly Variant[];
  /** Inputs per model (`sampleInput` seeds seed..seed+samples−1). */
  samples?: number;
  seed?: number;
  onProgress?: (line: string) => void;
}

export interface LayerCalibration {
  model: ModelId;
  variant: Variant;
  sha256: string;
  layers: (LayerTolerance & { separated: boolean })[];
}

export interface LayerCalibrationReport {
  createdAt: string;
  node: string;
  samples: number;
  seed: number;
  variations: string[];
  variants: LayerCalibration[];
}

const HONEST_VARIATIONS = ['threads 1 vs 2', `batch N vs ${ODD_BATCH} vs 1`, 'graph optimisation all vs disabled', 'one layer re-executed alone (1 and 2 threads, batch N and 1)'];

/** Row-wise max|Δ| of two [R, W] tensors (eval's `rowDiffs` over every row, after a shape check); NaN counts as Infinity. */
function rowMaxAbs(a: Tensor, b: Tensor): number[] {
  if (b.data.length !== a.data.length) throw new InferenceError('ERR_VALIDATION', `boundary shapes differ: [${a.dims.join(',')}] vs [${b.dims.join(',')}]`);
  return rowDiffs(a, b, a.dims[0]!);
}

/** Boundaries 0..L of a full run of `x` in chunks of `chunk` rows, each concatenated back to [R, W]. */
async function traceRun(rt: Runtime, model: ModelId, variant: Variant, names: string[], x: Tensor, chunk: number): Promise<Tensor[]> {
  const R = x.dims[0]!;
  const parts: Tensor[][] = names.map(() => []);
  for (let s = 0; s < R; s += chunk) {
    const xin = sliceBatch(x, s, Math.min(chunk, R - s));
    const r = await rt.run(model, variant, { [names[0]!]: xin }, { intermediates: true });
    parts[0]!.push(xin);
    for (let k = 1; k < names.length; k++) parts[k]!.push(k === names.length - 1 ? r.primary : r.outputs[names[k]!]!);
  }
  return parts.map((p) => concatBatch(p));
}

async function segmentRows(seg: SegmentRunner, k: number, from: Tensor, chunk: number): Promise<Tensor> {
  const R = from.dims[0]!;
  const parts: Tensor[] = [];
  for (let s = 0; s < R; s += chunk) parts.push(await seg.run(k, sliceBatch(from, s, Math.min(chunk, R - s))));
  return concatBatch(parts);
}

/**
 * Measures every traced model × variant × hidden boundary on the real onnxruntime (see the file comment) and
 * derives its tolerance. Native only; ~a minute for digits and heavy.
 */
export async function calibrateLayers(opts: LayerCalibrateOptions = {}): Promise<LayerCalibrationReport> {
  const modelsDir = opts.modelsDir ?? DEFAULT_MODELS_DIR;
  const samples = opts.samples ?? 32;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(samples) || samples < 2) throw new InferenceError('ERR_VALIDATION', `calibrate --layers: "samples" must be an integer ≥ 2, got ${String(samples)}`);
  if (!Number.isInteger(seed) || seed < 0) throw new InferenceError('ERR_VALIDATION', `calibrate --layers: "seed" must be a non-negative integer, got ${String(seed)}`);
  const log = opts.onProgress ?? (() => {});
  const manifest = loadManifest(modelsDir);
  const traced = tracedModels(manifest);
  for (const m of opts.models ?? []) if (!traced.includes(m)) throw new InferenceError('ERR_VALIDATION', `calibrate --layers: model "${m}" commits no layer trace; traced models: ${traced.join(', ')}`);
  const models = opts.models ?? traced;
  const variants = opts.variants ?? VARIANTS;
  const rt1 = createRuntime({ modelsDir, threads: 1 });
  const rt2 = createRuntime({ modelsDir, threads: 2 });
  const rtOpt = createRuntime({ modelsDir, threads: 1, graphOptimizationLevel: 'disabled' });
  const out: LayerCalibration[] = [];
  try {
    for (const model of models) {
      const entry = manifest.models[model];
      const names = segmentBoundaries(entry);
      const L = names.length - 1;
      const x = concatBatch(Array.from({ length: samples }, (_, i) => sampleInput(model, seed + i).input[names[0]!]!));
      const ref: Partial<Record<Variant, Tensor[]>> = {};
      const segs1: Partial<Record<Variant, SegmentRunner>> = {};
      // every variant's reference trace first: the cheats of one variant are the others'
      for (const variant of VARIANTS) {
        ref[variant] = await traceRun(rt1, model, variant, names, x, samples);
        segs1[variant] = createSegmentRunner({ manifest, model, variant, modelsDir, threads: 1 });
      }
      for (const variant of variants) {
        log(`calibrate --layers ${model}/${variant}: ${samples} inputs, ${L - 1} hidden boundaries`);
        const base = ref[variant]!;
        const honestRuns = [
          base,
          await traceRun(rt2, model, variant, names, x, samples),
          await traceRun(rtOpt, model, variant, names, x, samples),
          await traceRun(rt1, model, variant, names, x, ODD_BATCH),
          await traceRun(rt1, model, variant, names, x, 1),
        ];
        const seg2 = createSegmentRunner({ manifest, model, variant, modelsDir, threads: 2 });
        const layers: LayerCalibration['layers'] = [];
        for (let k = 1; k < L; k++) {
          let honest = 0;
          for (const run of honestRuns.slice(1)) honest = Math.max(honest, ...rowMaxAbs(base[k]!, run[k]!));
          // the referee: layer k alone from an honest run's boundary k−1, against that run's boundary k
          for (const run of [honestRuns[0]!, honestRuns[1]!, honestRuns[4]!]) {
            for (const [seg, chunk] of [[segs1[variant]!, samples], [seg2, samples], [segs1[variant]!, 1]] as const) {
              honest = Math.max(honest, ...rowMaxAbs(await segmentRows(seg, k, run[k - 1]!, chunk), run[k]!));
            }
          }
          let nearest = { name: 'none', d: Infinity };
          for (const other of VARIANTS) {
            if (other === variant) continue;
            const served = Math.min(...rowMaxAbs(base[k]!, ref[other]![k]!));
            if (served < nearest.d) nearest = { name: `${other} served as ${variant}`, d: served };
            const oneLayer = Math.min(...rowMaxAbs(base[k]!, await segmentRows(segs1[other]!, k, base[k - 1]!, samples)));
            if (oneLayer < nearest.d) nearest = { name: `layer ${k} by ${other}`, d: oneLayer };
          }
          let maxAct = 0;
          for (const v of base[k]!.data) maxAct = Math.max(maxAct, Math.abs(v));
          const { tolerance, separated } = layerToleranceBetween({ honestMaxAbsDiff: honest, nearestCheatMinMaxAbsDiff: nearest.d, maxAbsActivation: maxAct });
          layers.push({ boundary: names[k]!, tolerance, honestMaxAbsDiff: honest, nearestCheat: nearest.name, nearestCheatMinMaxAbsDiff: nearest.d, separated });
        }
        out.push({ model, variant, sha256: entry.variants[variant].sha256, layers });
      }
    }
  } finally {
    await Promise.all([rt1.close(), rt2.close(), rtOpt.close()]);
  }
  return { createdAt: new Date().toISOString(), node: process.version, samples, seed, variations: HONEST_VARIATIONS, variants: out };
}

const fmt = (x: number): string => (x === 0 ? '0' : !Number.isFinite(x) ? String(x) : x.toExponential(1));

/** Markdown table of a layer calibration. */
export function formatLayerCalibrationTable(report: LayerCalibrationReport): string {
  const lines = [
    `Per-layer tolerances (${report.samples} inputs from seed ${report.seed}; honest variation: ${report.variations.join('; ')}; tolerance = geometric mean of honest and nearest cheat, one significant digit, ≥ ${LAYER_TOLERANCE_MIN_MARGIN}× from both).`,
    '',
    '| model | variant | boundary | honest max abs Δ | tolerance | nearest cheat: min max abs Δ | separated |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const v of report.variants) {
    for (const l of v.layers) lines.push(`| ${v.model} | ${v.variant} | ${l.boundary} | ${fmt(l.honestMaxAbsDiff)} | ${fmt(l.tolerance)} | ${l.nearestCheat}: ${fmt(l.nearestCheatMinMaxAbsDiff)} | ${l.separated ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

/** Records each variant's layer tolerances in manifest.json (`variants[v].layerTolerances`), for the bytes they were measured on. */
export function writeLayerTolerancesToManifest(modelsDir: string, report: LayerCalibrationReport): void {
  const path = join(modelsDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  for (const v of report.variants) {
    const entry = manifest.models[v.model]?.variants[v.variant];
    if (entry && entry.sha256 === v.sha256) entry.layerTolerances = v.layers.map(({ separated: _s, ...l }) => ({ ...l, measuredAt: report.createdAt }));
  }
  writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n');
}

/** Replaces the text between `<!-- layer-tolerances:begin -->` and `<!-- layer-tolerances:end -->` in a Markdown file with the table. */
export function writeLayerCalibrationToDoc(docPath: string, report: LayerCalibrationReport): void {
  const doc = readFileSync(docPath, 'utf8');
  const begin = '<!-- layer-tolerances:begin -->';
  const end = '<!-- layer-tolerances:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new InferenceError('ERR_VALIDATION', `"${docPath}" has no ${begin} … ${end} section to replace`);
  writeFileSync(docPath, doc.slice(0, a + begin.length) + '\n' + formatLayerCalibrationTable(report) + '\n' + doc.slice(b));
}

/**
 * `infermarket models calibrate --layers`: measures, prints the table (or JSON), records the tolerances in the
 * manifest. Returns 1 (after recording) when some boundary's honest divergence and nearest cheat are not separated
 * by the margin, naming them.
 */
export async function modelsCalibrateLayersCommand(opts: LayerCalibrateOptions & { json?: boolean; updateManifest?: boolean; docPath?: string; out?: (l: string) => void } = {}): Promise<number> {
  if (opts.docPath && !existsSync(opts.docPath)) throw new InferenceError('ERR_NOT_FOUND', `--doc "${opts.docPath}" does not exist`);
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const report = await calibrateLayers({ ...opts, onProgress: opts.onProgress ?? ((l) => process.stderr.write(l + '\n')) });
  out(opts.json ? JSON.stringify(report, null, 2) : formatLayerCalibrationTable(report));
  if (opts.updateManifest !== false) writeLayerTolerancesToManifest(opts.modelsDir ?? DEFAULT_MODELS_DIR, report);
  if (opts.docPath) writeLayerCalibrationToDoc(opts.docPath, report);
  const bad = report.variants.flatMap((v) => v.layers.filter((l) => !l.separated).map((l) => `${v.model}/${v.variant} ${l.boundary}`));
  for (const b of bad) process.stderr.write(`warning: ${b}: honest divergence and nearest cheat are not ${LAYER_TOLERANCE_MIN_MARGIN}× apart on both sides of the tolerance\n`);
  return bad.length ? 1 : 0;
}
