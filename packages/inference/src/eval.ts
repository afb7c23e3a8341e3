import { readFileSync } from 'node:fs';
import { compareOutputs as protocolCompareOutputs } from '@infermarket/protocol';
import { createRuntime } from './runtime.js';
import type { Runtime } from './runtime.js';
import { VARIANTS } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { MODEL_IDS } from './manifest.js';
import type { Manifest, ManifestComparator, ModelId } from './manifest.js';
import type { ModelInput, Tensor } from './tensor.js';
import { concatBatch, sliceBatch } from './tensor.js';
import { loadDigits, DIGIT_PIXELS } from './digits-data.js';
import { createPrng } from './prng.js';
import { CHARLM_BOS, encodeChars, splitCorpus } from './charlm-vocab.js';
import { DEFAULT_CORPUS_PATH, DEFAULT_MODELS_DIR } from './paths.js';
import { sampleInput, CHARLM_PROMPTS } from './sample-input.js';

type ComparatorSpec = ManifestComparator;

/** The comparator signature (`compareOutputs` of @infermarket/protocol). */
export type CompareFn = (spec: ComparatorSpec, expected: Tensor, received: Tensor) => { match: boolean; reason: string; maxAbsDiff?: number };

export interface EvalOptions {
  /** Comparator used for calibration (default: `compareOutputs` from @infermarket/protocol); to try other comparators. */
  compare?: CompareFn;
  modelsDir?: string;
  models?: ModelId[];
  variants?: Variant[];
  /** Fewer rows and timing runs (tests). */
  quick?: boolean;
  corpusPath?: string;
  onProgress?: (line: string) => void;
}

/** One model × variant row of the "quantized vs original" table. */
export interface VariantEval {
  model: ModelId;
  variant: Variant;
  fileBytes: number;
  loadMs: number;
  p50Batch1Ms: number;
  p50Batch32Ms: number;
  /** digits: held-out accuracy; charlm: held-out next-char accuracy; heavy: null (untrained). */
  quality: number | null;
  qualityMetric: string;
  /** charlm: held-out perplexity (per char). */
  perplexity?: number;
  top1AgreementVsFp32: number;
  maxAbsDiffVsFp32: number;
  /** Bit-identical outputs: intraOpNumThreads 1 vs 2; batch composition (alone, and batches of 17, vs 32); graphOptimizationLevel 'disabled' vs 'all'. */
  bitIdentical: { threads: boolean; batch: boolean; optLevel: boolean };
  /** Largest |Δ| for each honest variation. */
  divergence: { threads: number; batch: number; optLevel: number };
}

/** How far one kind of cheat lands from the honest output, and how often the comparator accepts it. */
export interface CheatResult {
  cheat: string;
  rows: number;
  minMaxAbsDiff: number;
  medianMaxAbsDiff: number;
  acceptedRate: number;
}

/** Tolerance calibration for one model × variant (run outputs). */
export interface Calibration {
  model: ModelId;
  variant: Variant;
  comparator: ComparatorSpec;
  honestMaxAbsDiff: number;
  honestComparisons: number;
  falsePositiveRate: number;
  cheats: CheatResult[];
  /** Nearest cheat distance / tolerance (how much room a cheater lacks). */
  nearestCheatOverTolerance: number;
  falseNegativeRate: number;
}

/** Generation determinism and cheat detection for charlm (token comparator). */
export interface GenerationCheck {
  variant: Variant;
  runs: number;
  tokensPerRun: number;
  identicalThreads: number;
  identicalOptLevel: number;
  ttftP50Ms: number;
  msPerTokenP50: number;
  /** Fraction of runs where another variant's tokens equal this variant's (would be accepted). */
  acceptedAsThis: Record<string, number>;
  sample: string;
}

export interface EvalReport {
  onnxruntimeNode: string;
  node: string;
  cpu: string;
  createdAt: string;
  rows: VariantEval[];
  calibration: Calibration[];
  generation: GenerationCheck[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

function rowsOfTensor(t: Tensor): number {
  return t.dims[0]!;
}

function sliceInput(x: ModelInput, start: number, count: number): ModelInput {
  return Object.fromEntries(Object.entries(x).map(([k, t]) => [k, sliceBatch(t, start, count)]));
}

/** Runs all rows of `x` in chunks of `chunk` rows; returns the primary output [R, W]. */
async function runChunks(rt: Runtime, model: ModelId, variant: Variant, x: ModelInput, chunk: number, order?: number[]): Promise<Tensor> {
  const first = Object.values(x)[0]!;
  const R = rowsOfTensor(first);
  const idx = order ?? Array.from({ length: R }, (_, i) => i);
  const parts: Tensor[] = new Array<Tensor>(R);
  for (let s = 0; s < R; s += chunk) {
    const rows = idx.slice(s, s + chunk);
    const inp: ModelInput = Object.fromEntries(Object.entries(x).map(([k, t]) => [k, concatBatch(rows.map((r) => sliceBatch(t, r, 1)))]));
    const out = (await rt.run(model, variant, inp)).primary;
    rows.forEach((r, i) => (parts[r] = sliceBatch(out, i, 1)));
  }
  return concatBatch(parts);
}

function rowView(t: Tensor, r: number): Tensor {
  return sliceBatch(t, r, 1);
}

/** Row-wise max|Δ| over the first `rows` rows of two tensors of the same shape; NaN counts as Infinity. */
export function rowDiffs(a: Tensor, b: Tensor, rows: number): number[] {
  const W = a.data.length / a.dims[0]!;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < W; j++) {
      const d = Math.abs(a.data[r * W + j]! - b.data[r * W + j]!);
      m = Number.isNaN(d) ? Infinity : Math.max(m, d);
    }
    out.push(m);
  }
  return out;
}

function argmaxRow(t: Tensor, r: number): number {
  const W = t.data.length / t.dims[0]!;
  let best = 0;
  for (let j = 1; j < W; j++) if (t.data[r * W + j]! > t.data[r * W + best]!) best = j;
  return best;
}

interface ModelData {
  /** Inputs for divergence, determinism and calibration (identical for every variant). */
  x: ModelInput;
  quality: (rt: Runtime, variant: Variant) => Promise<{ value: number | null; metric: string; perplexity?: number; logits?: Tensor }>;
}

function digitsData(quick: boolean): ModelData {
  const d = loadDigits();
  const n = quick ? 256 : 512;
  return {
    x: { pixels: { dtype: 'float32', dims: [n, DIGIT_PIXELS], data: d.testX.slice(0, n * DIGIT_PIXELS) } },
    async quality(rt, variant) {
      const all = { pixels: { dtype: 'float32' as const, dims: [d.testY.length, DIGIT_PIXELS], data: d.testX } };
      const out = await runChunks(rt, 'digits', variant, all, 256);
      let c = 0;
      for (let i = 0; i < d.testY.length; i++) if (argmaxRow(out, i) === d.testY[i]) c++;
      return { value: c / d.testY.length, metric: `held-out accuracy (${d.testY.length} MNIST digits)`, logits: out };
    },
  };
}

function heavyData(quick: boolean, model: 'heavy' | 'deep' = 'heavy'): ModelData {
  const n = quick ? 64 : 256;
  const rows = Array.from({ length: n }, (_, i) => sampleInput(model, i).input.x!);
  return {
    x: { x: concatBatch(rows) },
    async quality() {
      return { value: null, metric: 'n/a (seeded weights)' };
    },
  };
}

/** Teacher-forced pass over the held-out blocks, all blocks as one batch; returns states and logits. */
async function charlmTeacherForced(rt: Runtime, variant: Variant, blocks: Int32Array[], H: number): Promise<{ toks: number[]; hs: Float32Array[]; logits: Float32Array[]; targets: number[] }> {
  const B = blocks.length;
  const T = blocks[0]!.length;
  let h: Float32Array = new Float32Array(B * H);
  const toks: number[] = [], hs: Float32Array[] = [], logits: Float32Array[] = [], targets: number[] = [];
  for (let t = -1; t < T - 1; t++) {
    const tok = Int32Array.from(blocks, (b) => (t < 0 ? CHARLM_BOS : b[t]!));
    const r = await rt.run('charlm', variant, { tok: { dtype: 'int32', dims: [B], data: tok }, h: { dtype: 'float32', dims: [B, H], data: h } });
    const lg = r.outputs.logits!.data as Float32Array;
    for (let b = 0; b < B; b++) {
      toks.push(tok[b]!);
      hs.push(h.slice(b * H, (b + 1) * H));
      logits.push(lg.slice(b * 96, (b + 1) * 96));
      targets.push(blocks[b]![t + 1]!);
    }
    h = r.outputs.h_out!.data as Float32Array;
  }
  return { toks, hs, logits, targets };
}

function charlmData(quick: boolean, corpusPath: string, H: number, fp32Rt: Runtime): Promise<ModelData> {
  const { heldOut } = splitCorpus(readFileSync(corpusPath, 'utf8'));
  const blocks = heldOut.map((b) => encodeChars(b));
  return (async () => {
    const tf = await charlmTeacherForced(fp32Rt, 'fp32', blocks, H);
    const n = quick ? 128 : 512;
    const step = Math.max(1, Math.floor(tf.toks.length / n));
    const pick = Array.from({ length: n }, (_, i) => (i * step) % tf.toks.length);
    const hdata = new Float32Array(n * H);
    pick.forEach((p, i) => hdata.set(tf.hs[p]!, i * H));
    return {
      x: { tok: { dtype: 'int32', dims: [n], data: Int32Array.from(pick, (p) => tf.toks[p]!) }, h: { dtype: 'float32', dims: [n, H], data: hdata } },
      async quality(rt, variant) {
        const r = await charlmTeacherForced(rt, variant, blocks, H);
        let nll = 0, correct = 0;
        const all = new Float32Array(r.logits.length * 96);
        r.logits.forEach((lg, i) => {
          all.set(lg, i * 96);
          let mx = -Infinity, am = 0;
          for (let v = 0; v < 96; v++) if (lg[v]! > mx) { mx = lg[v]!; am = v; }
          let s = 0;
          for (let v = 0; v < 96; v++) s += Math.exp(lg[v]! - mx);
          nll -= lg[r.targets[i]!]! - mx - Math.log(s);
          if (am === r.targets[i]) correct++;
        });
        return {
          value: correct / r.targets.length,
          metric: `held-out next-char accuracy (${r.targets.length} chars)`,
          perplexity: Math.exp(nll / r.targets.length),
          logits: { dtype: 'float32', dims: [r.logits.length, 96], data: all },
        };
      },
    };
  })();
}

async function latencyP50(rt: Runtime, model: ModelId, variant: Variant, x: ModelInput, batch: number, runs: number): Promise<number> {
  const inp = sliceInput(x, 0, batch);
  await rt.run(model, variant, inp);
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) ts.push((await rt.run(model, variant, inp)).ms);
  return median(ts);
}

/**
 * Evaluates every model × variant against fp32 and calibrates the comparators: quality, latency, load
 * time, determinism (threads, batch composition, optimization level) and where the cheats land.
 * Real onnxruntime sessions; takes ~1 min for everything (`quick` for tests).
 */
export async function evalModels(opts: EvalOptions = {}): Promise<EvalReport> {
  const modelsDir = opts.modelsDir ?? DEFAULT_MODELS_DIR;
  const log = opts.onProgress ?? (() => {});
  const quick = opts.quick ?? false;
  const compareOutputs: CompareFn = opts.compare ?? protocolCompareOutputs;
  const rt1 = createRuntime({ modelsDir, threads: 1 });
  const rt2 = createRuntime({ modelsDir, threads: 2 });
  const rtOpt = createRuntime({ modelsDir, threads: 1, graphOptimizationLevel: 'disabled' });
  const manifest: Manifest = rt1.manifest;
  const models = (opts.models ?? [...MODEL_IDS]).filter((m) => m in manifest.models);
  const variants = opts.variants ?? [...VARIANTS];
  if (!variants.includes('fp32')) variants.unshift('fp32');
  const rows: VariantEval[] = [];
  const calibration: Calibration[] = [];
  const generation: GenerationCheck[] = [];
  const runsB1 = quick ? 10 : 50;
  const runsB32 = quick ? 5 : 20;
  try {
    for (const model of models) {
      const entry = manifest.models[model];
      log(`eval ${model}: preparing inputs`);
      const H = Number(entry.inputs.find((i) => i.name === 'h')?.shape[1] ?? 0);
      const data = model === 'digits' ? digitsData(quick) : model === 'heavy' || model === 'deep' ? heavyData(quick, model) : await charlmData(quick, opts.corpusPath ?? DEFAULT_CORPUS_PATH, H, rt1);
      const R = rowsOfTensor(Object.values(data.x)[0]!);
      const ref: Partial<Record<Variant, Tensor>> = {};
      const honest: Partial<Record<Variant, Tensor[]>> = {};
      let fp32Quality: Tensor | undefined;
      for (const variant of variants) {
        log(`eval ${model}/${variant}: load, quality, determinism, latency`);
        const info = await rt1.load(model, variant);
        const q = await data.quality(rt1, variant);
        if (variant === 'fp32') fp32Quality = q.logits;
        const base = await runChunks(rt1, model, variant, data.x, 32);
        ref[variant] = base;
        const thr = await runChunks(rt2, model, variant, data.x, 32);
        const opt = await runChunks(rtOpt, model, variant, data.x, 32);
        const order = Array.from({ length: R }, (_, i) => (i * 7919) % R); // other neighbours in each batch
        const b17 = await runChunks(rt1, model, variant, data.x, 17, gcd(7919, R) === 1 ? order : undefined);
        const alone = await runChunks(rt1, model, variant, sliceInput(data.x, 0, Math.min(64, R)), 1);
        honest[variant] = [thr, opt, b17, alone];
        const dThr = Math.max(...rowDiffs(base, thr, R));
        const dOpt = Math.max(...rowDiffs(base, opt, R));
        const dBatch = Math.max(...rowDiffs(base, b17, R), ...rowDiffs(base, alone, alone.dims[0]!));
        const vsFp32 = q.logits && fp32Quality ? [q.logits, fp32Quality] : [base, ref.fp32!];
        const nRows = vsFp32[0]!.dims[0]!;
        let agree = 0;
        for (let r = 0; r < nRows; r++) if (argmaxRow(vsFp32[0]!, r) === argmaxRow(vsFp32[1]!, r)) agree++;
        rows.push({
          model,
          variant,
          fileBytes: entry.variants[variant].sizeBytes,
          loadMs: info.loadMs,
          p50Batch1Ms: await latencyP50(rt1, model, variant, data.x, 1, runsB1),
          p50Batch32Ms: await latencyP50(rt1, model, variant, data.x, 32, runsB32),
          quality: q.value,
          qualityMetric: q.metric,
          ...(q.perplexity !== undefined ? { perplexity: q.perplexity } : {}),
          top1AgreementVsFp32: agree / nRows,
          maxAbsDiffVsFp32: Math.max(...rowDiffs(vsFp32[0]!, vsFp32[1]!, nRows)),
          bitIdentical: { threads: dThr === 0, batch: dBatch === 0, optLevel: dOpt === 0 },
          divergence: { threads: dThr, batch: dBatch, optLevel: dOpt },
        });
      }
      // calibration of the run comparator
      for (const variant of variants) {
        const spec = entry.variants[variant].comparator as ComparatorSpec;
        const base = ref[variant]!;
        let fp = 0, comparisons = 0, honestMax = 0;
        for (const h of honest[variant]!) {
          const n = h.dims[0]!;
          for (let r = 0; r < n; r++) {
            const res = compareOutputs(spec, rowView(base, r), rowView(h, r));
            comparisons++;
            if (!res.match) fp++;
            honestMax = Math.max(honestMax, res.maxAbsDiff ?? 0);
          }
        }
        const cheats: CheatResult[] = [];
        const cheat = (name: string, candidate: (r: number) => Tensor): void => {
          const diffs: number[] = [];
          let accepted = 0;
          for (let r = 0; r < R; r++) {
            const res = compareOutputs(spec, rowView(base, r), candidate(r));
            diffs.push(res.maxAbsDiff ?? Infinity);
            if (res.match) accepted++;
          }
          cheats.push({ cheat: name, rows: R, minMaxAbsDiff: Math.min(...diffs), medianMaxAbsDiff: median(diffs), acceptedRate: accepted / R });
        };
        for (const other of variants) if (other !== variant) cheat(`${other} served as ${variant}`, (r) => rowView(ref[other]!, r));
        const rng = createPrng(`cheat:${model}:${variant}`);
        cheat('random output', (r) => {
          const row = rowView(base, r);
          let mean = 0;
          for (const v of row.data) mean += v;
          mean /= row.data.length;
          let sd = 0;
          for (const v of row.data) sd += (v - mean) ** 2;
          sd = Math.sqrt(sd / row.data.length);
          return { dtype: 'float32', dims: row.dims, data: Float32Array.from(row.data, () => mean + sd * rng.normal()) };
        });
        cheat("another input's output", (r) => rowView(base, (r + 1) % R));
        const tol = spec.kind === 'argmax-maxabs' ? spec.tolerance : spec.kind === 'topk' ? (spec.tolerance ?? 0) : 0;
        const nearest = Math.min(...cheats.map((c) => c.minMaxAbsDiff));
        const totalCheatRows = cheats.reduce((n, c) => n + c.rows, 0);
        calibration.push({
          model,
          variant,
          comparator: spec,
          honestMaxAbsDiff: honestMax,
          honestComparisons: comparisons,
          falsePositiveRate: fp / comparisons,
          cheats,
          nearestCheatOverTolerance: tol > 0 ? nearest / tol : Infinity,
          falseNegativeRate: cheats.reduce((n, c) => n + c.acceptedRate * c.rows, 0) / totalCheatRows,
        });
      }
      if (entry.kind === 'charlm') {
        const runs = quick ? 4 : 16;
        const maxTokens = quick ? 24 : 64;
        const tokensBy: Partial<Record<Variant, number[][]>> = {};
        for (const variant of variants) {
          log(`eval ${model}/${variant}: generation determinism`);
          let same2 = 0, sameOpt = 0;
          const ttft: number[] = [], perTok: number[] = [];
          const list: number[][] = [];
          let sample = '';
          for (let s = 0; s < runs; s++) {
            const req = { prompt: CHARLM_PROMPTS[s % CHARLM_PROMPTS.length]!, maxTokens, temperature: 0.8, seed: s };
            const a = await rt1.generate(model, variant, req);
            const b = await rt2.generate(model, variant, req);
            const c = await rtOpt.generate(model, variant, req);
            if (s === 0) sample = req.prompt + a.text;
            list.push(a.tokens);
            ttft.push(a.ttftMs);
            perTok.push((a.totalMs - a.ttftMs) / Math.max(1, maxTokens - 1));
            const eq = (x: number[], y: number[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
            if (eq(a.tokens, b.tokens)) same2++;
            if (eq(a.tokens, c.tokens)) sameOpt++;
          }
          tokensBy[variant] = list;
          generation.push({ variant, runs, tokensPerRun: maxTokens, identicalThreads: same2 / runs, identicalOptLevel: sameOpt / runs, ttftP50Ms: median(ttft), msPerTokenP50: median(perTok), acceptedAsThis: {}, sample });
        }
        for (const g of generation) {
          for (const other of variants) {
            if (other === g.variant) continue;
            let acc = 0;
            tokensBy[g.variant]!.forEach((toks, i) => {
              const spec: ComparatorSpec = { kind: 'tokens' };
              const t = (x: number[]): Tensor => ({ dtype: 'int32', dims: [x.length], data: Int32Array.from(x) });
              if (compareOutputs(spec, t(toks), t(tokensBy[other]![i]!)).match) acc++;
            });
            g.acceptedAsThis[other] = acc / runs;
          }
        }
      }
    }
  } finally {
    await Promise.all([rt1.close(), rt2.close(), rtOpt.close()]);
  }
  const os = await import('node:os');
  return {
    onnxruntimeNode: manifest.onnxruntimeNode,
    node: process.version,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores)`,
    createdAt: new Date().toISOString(),
    rows,
    calibration,
    generation,
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

const fmtNum = (x: number): string => (x === 0 ? '0' : !Number.isFinite(x) ? String(x) : Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(1));
const kb = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} KB`);
const yes = (b: boolean): string => (b ? 'yes' : 'no');

/** Formats an eval report as Markdown tables. */
export function formatEvalTable(report: EvalReport): string {
  const out: string[] = [];
  out.push(`onnxruntime-node ${report.onnxruntimeNode}, Node ${report.node}, ${report.cpu}, ${report.createdAt}; latency = median session.run, intraOpNumThreads 1.`);
  out.push('');
  out.push('| model | variant | file | load ms | p50 b1 ms | p50 b32 ms | quality | top-1 vs fp32 | max abs Δ vs fp32 | bit-identical threads 1/2 | batch composition | opt level |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of report.rows) {
    const q = r.quality === null ? 'n/a' : `${(r.quality * 100).toFixed(2)}%${r.perplexity !== undefined ? ` (ppl ${r.perplexity.toFixed(2)})` : ''}`;
    const div = (b: boolean, d: number): string => (b ? 'yes' : `no (${fmtNum(d)})`);
    out.push(`| ${r.model} | ${r.variant} | ${kb(r.fileBytes)} | ${r.loadMs.toFixed(1)} | ${r.p50Batch1Ms.toFixed(3)} | ${r.p50Batch32Ms.toFixed(3)} | ${q} | ${(r.top1AgreementVsFp32 * 100).toFixed(2)}% | ${fmtNum(r.maxAbsDiffVsFp32)} | ${yes(r.bitIdentical.threads)} | ${div(r.bitIdentical.batch, r.divergence.batch)} | ${div(r.bitIdentical.optLevel, r.divergence.optLevel)} |`);
  }
  out.push('');
  out.push('Tolerance calibration (run outputs; honest = threads 1/2, batch composition, opt level; FP = honest rejected, FN = cheats accepted):');
  out.push('');
  out.push('| model | variant | comparator | largest honest abs Δ | FP rate | nearest cheat / tolerance | FN rate | cheats: min abs Δ (share accepted) |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of report.calibration) {
    const spec = c.comparator.kind === 'argmax-maxabs' ? `argmax-maxabs ≤ ${c.comparator.tolerance}` : c.comparator.kind;
    const cheats = c.cheats.map((x) => `${x.cheat}: ${fmtNum(x.minMaxAbsDiff)} (${(x.acceptedRate * 100).toFixed(0)}%)`).join('; ');
    out.push(`| ${c.model} | ${c.variant} | ${spec} | ${fmtNum(c.honestMaxAbsDiff)} | ${(c.falsePositiveRate * 100).toFixed(2)}% | ${Number.isFinite(c.nearestCheatOverTolerance) ? `${c.nearestCheatOverTolerance.toFixed(0)}×` : '∞'} | ${(c.falseNegativeRate * 100).toFixed(2)}% | ${cheats} |`);
  }
  if (report.generation.length) {
    out.push('');
    out.push('charlm generation (temperature 0.8, seeded; token comparator = identical ids):');
    out.push('');
    out.push('| variant | runs × tokens | identical threads 1/2 | identical opt level | TTFT p50 ms | ms/token p50 | other variants accepted as this | sample |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const g of report.generation) {
      const acc = Object.entries(g.acceptedAsThis).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ');
      out.push(`| ${g.variant} | ${g.runs} × ${g.tokensPerRun} | ${(g.identicalThreads * 100).toFixed(0)}% | ${(g.identicalOptLevel * 100).toFixed(0)}% | ${g.ttftP50Ms.toFixed(2)} | ${g.msPerTokenP50.toFixed(3)} | ${acc} | ${JSON.stringify(g.sample.slice(0, 60)).replace(/\|/g, '\\|')} |`);
    }
  }
  return out.join('\n');
}
