/**
 * Output comparators: how a validator decides whether a miner's output matches its own re-execution.
 * Pure functions over plain data (no I/O, no clock, no randomness). Specs are JSON data so they can
 * sit in the model manifest and in job records. Tolerances are calibrated per model × variant from
 * measured honest divergence (see docs/models.md).
 */
import { InfermarketError } from './errors.js';

/** Element types a compared tensor may carry. */
export type TensorDtype = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'int8' | 'uint8';

/** A tensor as plain data (row-major; the last dim is the class/vocabulary axis). */
export interface TensorData {
  dtype: TensorDtype;
  dims: readonly number[];
  data: ArrayLike<number>;
}

/**
 * How two outputs are compared.
 * - `exact`: same dtype, dims and bit-identical values (integer outputs, bit-exact variants).
 * - `argmax-maxabs`: same dims, max |a-b| <= tolerance, and per row the same argmax (a different
 *   argmax is tolerated only when it is a near tie, gap <= 2·tolerance, which max-abs already implies).
 * - `topk`: per row the same set of k largest indices (an index may swap with one within `tolerance`
 *   of the k-th value); values are otherwise not compared.
 * - `tokens`: generated token id sequences must be identical (same prompt, seed and temperature).
 */
export type ComparatorSpec =
  | { kind: 'exact' }
  | { kind: 'argmax-maxabs'; tolerance: number }
  | { kind: 'topk'; k: number; tolerance?: number }
  | { kind: 'tokens' };

/**
 * Wire-shaped outputs (as jobs carry them) are accepted too: a base64 little-endian tensor, or a
 * token list. They are decoded to {@link TensorData} before comparing.
 */
export type WireOutputLike =
  | { kind: 'tensor'; tensor: { dtype: string; dims: readonly number[]; data: string } }
  | { kind: 'tokens'; tokens: readonly number[] };

/** Anything {@link compareOutputs} can compare. */
export type ComparableOutput = TensorData | WireOutputLike;

export interface CompareResult {
  match: boolean;
  /** Why it matched or not, naming the first offending row/element. */
  reason: string;
  /** Largest absolute element difference (when both are numeric tensors of the same size). */
  maxAbsDiff?: number;
}

/** The comparator kinds, for validation and documentation. */
export const COMPARATOR_KINDS = ['exact', 'argmax-maxabs', 'topk', 'tokens'] as const;

function badSpec(field: string, message: string): never {
  throw new InfermarketError('ERR_BAD_COMPARATOR', message, { details: { field } });
}

/**
 * Validates a comparator spec from untrusted JSON.
 * @throws InfermarketError `ERR_BAD_COMPARATOR` naming the offending field, expected and received values.
 */
export function parseComparatorSpec(spec: unknown): ComparatorSpec {
  if (spec === null || typeof spec !== 'object') badSpec('comparator', `comparator spec must be an object, got ${JSON.stringify(spec)}`);
  const s = spec as Record<string, unknown>;
  const tol = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) badSpec(field, `comparator "${field}" must be a finite number >= 0, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (s.kind) {
    case 'exact':
      return { kind: 'exact' };
    case 'tokens':
      return { kind: 'tokens' };
    case 'argmax-maxabs':
      return { kind: 'argmax-maxabs', tolerance: tol(s.tolerance, 'tolerance') };
    case 'topk': {
      if (typeof s.k !== 'number' || !Number.isInteger(s.k) || s.k < 1) badSpec('k', `comparator "k" must be an integer >= 1, got ${JSON.stringify(s.k)}`);
      return s.tolerance === undefined ? { kind: 'topk', k: s.k } : { kind: 'topk', k: s.k, tolerance: tol(s.tolerance, 'tolerance') };
    }
    default:
      return badSpec('kind', `comparator "kind" must be one of ${COMPARATOR_KINDS.join(', ')}, got ${JSON.stringify(s.kind)}`);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes standard base64 (padding optional); `undefined` on a malformed string. */
export function decodeBase64(s: string): Uint8Array | undefined {
  const clean = s.replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < clean.length; i++) {
    acc = (acc << 6) | B64.indexOf(clean[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Normalises a wire output or tensor to TensorData (`undefined` if malformed). */
export function toTensorData(x: ComparableOutput): TensorData | undefined {
  if (!x || typeof x !== 'object') return undefined;
  if ('kind' in x) {
    if (x.kind === 'tokens') return Array.isArray(x.tokens) ? { dtype: 'int32', dims: [x.tokens.length], data: x.tokens } : undefined;
    if (x.kind !== 'tensor' || !x.tensor || typeof x.tensor.data !== 'string') return undefined;
    const bytes = decodeBase64(x.tensor.data);
    const dtype = x.tensor.dtype;
    if (!bytes || (dtype !== 'float32' && dtype !== 'int32') || bytes.length % 4) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length / 4;
    const data = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
    return { dtype, dims: [...x.tensor.dims], data };
  }
  return x;
}

const same = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
const shapeOf = (t: TensorData): string => `${t.dtype} [${t.dims.join(', ')}]`;

function structural(a: TensorData, b: TensorData): string | undefined {
  if (!a || !b || !Array.isArray(a.dims) || !Array.isArray(b.dims) || a.data == null || b.data == null) return 'malformed tensor';
  if (a.dtype !== b.dtype || !same(a.dims, b.dims)) return `shape differs: expected ${shapeOf(a)}, received ${shapeOf(b)}`;
  const size = a.dims.reduce((p, d) => p * d, 1);
  if (a.data.length !== size || b.data.length !== size) return `data length differs from dims [${a.dims.join(', ')}] (${size}): expected has ${a.data.length}, received has ${b.data.length}`;
  return undefined;
}

/** Largest |a[i]-b[i]|; `Infinity` when any element is not finite or they differ in length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (Object.is(x, y)) continue;
      return Infinity;
    }
    const d = Math.abs(x - y);
    if (d > m) m = d;
  }
  return m;
}

function rowsOf(t: TensorData): { rows: number; width: number } {
  const width = t.dims.length ? t.dims[t.dims.length - 1]! : 1;
  return { rows: width === 0 ? 0 : t.data.length / width, width };
}

function argmax(data: ArrayLike<number>, off: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (data[off + j]! > data[off + best]!) best = j;
  return best;
}

function topkIndices(data: ArrayLike<number>, off: number, width: number, k: number): number[] {
  const idx = Array.from({ length: width }, (_, j) => j);
  idx.sort((p, q) => data[off + q]! - data[off + p]! || p - q);
  return idx.slice(0, Math.min(k, width));
}

/**
 * Compares a reference output (the validator's re-execution) with a candidate (the miner's). Accepts
 * {@link TensorData} or wire-shaped outputs (`{ kind: 'tensor', tensor: { data: base64 } }`,
 * `{ kind: 'tokens', tokens }`). A malformed output never matches.
 * @example compareOutputs({ kind: 'argmax-maxabs', tolerance: 1e-3 }, ref, claimed).match
 */
export function compareOutputs(spec: ComparatorSpec, expected: ComparableOutput, received: ComparableOutput): CompareResult {
  const a = toTensorData(expected);
  const b = toTensorData(received);
  if (!a || !b) return { match: false, reason: `malformed ${!a ? 'expected' : 'received'} output` };
  const bad = structural(a, b);
  if (spec.kind === 'tokens') {
    if (bad && bad !== 'malformed tensor' && a.data.length !== b.data.length) {
      return { match: false, reason: `token count differs: expected ${a.data.length}, received ${b.data.length}` };
    }
    if (bad) return { match: false, reason: bad };
    for (let i = 0; i < a.data.length; i++) {
      if (a.data[i] !== b.data[i]) return { match: false, reason: `tokens diverge at position ${i}: expected ${a.data[i]}, received ${b.data[i]}` };
    }
    return { match: true, reason: `all ${a.data.length} tokens identical` };
  }
  if (bad) return { match: false, reason: bad };
  const diff = maxAbsDiff(a.data, b.data);
  switch (spec.kind) {
    case 'exact': {
      for (let i = 0; i < a.data.length; i++) {
        if (!Object.is(a.data[i], b.data[i])) return { match: false, reason: `element ${i} differs: expected ${a.data[i]}, received ${b.data[i]}`, maxAbsDiff: diff };
      }
      return { match: true, reason: 'bit-identical', maxAbsDiff: 0 };
    }
    case 'argmax-maxabs': {
      const { rows, width } = rowsOf(a);
      for (let r = 0; r < rows; r++) {
        const ia = argmax(a.data, r * width, width);
        const ib = argmax(b.data, r * width, width);
        if (ia !== ib && a.data[r * width + ia]! - a.data[r * width + ib]! > 2 * spec.tolerance) {
          return { match: false, reason: `row ${r}: argmax differs (expected ${ia}, received ${ib})`, maxAbsDiff: diff };
        }
      }
      if (!(diff <= spec.tolerance)) {
        return { match: false, reason: `max |difference| ${diff} exceeds tolerance ${spec.tolerance}`, maxAbsDiff: diff };
      }
      return { match: true, reason: `argmax equal on ${rows} row(s); max |difference| ${diff} <= ${spec.tolerance}`, maxAbsDiff: diff };
    }
    case 'topk': {
      const { rows, width } = rowsOf(a);
      const tol = spec.tolerance ?? 0;
      if (!Number.isFinite(diff)) return { match: false, reason: 'non-finite value in output', maxAbsDiff: diff };
      for (let r = 0; r < rows; r++) {
        const off = r * width;
        const ta = topkIndices(a.data, off, width, spec.k);
        const tb = topkIndices(b.data, off, width, spec.k);
        const kth = a.data[off + ta[ta.length - 1]!]!;
        for (const j of tb) {
          if (!ta.includes(j) && a.data[off + j]! < kth - tol) {
            return { match: false, reason: `row ${r}: top-${spec.k} differs (expected [${ta.join(', ')}], received [${tb.join(', ')}])`, maxAbsDiff: diff };
          }
        }
      }
      return { match: true, reason: `top-${spec.k} sets equal on ${rows} row(s)`, maxAbsDiff: diff };
    }
  }
}

/** A model's comparators as the manifest (or a job record) carries them: raw JSON, checked when used. */
export interface ModelComparators {
  /** For tensor outputs; absent means `{ kind: 'exact' }`. */
  comparator?: unknown;
  /** For generated tokens; absent means `{ kind: 'tokens' }`. */
  generationComparator?: unknown;
}

/**
 * The one comparison that decides a slash: does a re-execution (`expected`) agree with the miner's
 * output (`received`) under the model's comparator — `generationComparator` for generated tokens,
 * `comparator` for tensors? Used by the market (audits and disputes), the validator (private jobs'
 * verdicts) and the testnet's probe. A malformed spec is an error, never a fallback to another rule
 * (exact hash equality would slash honest float variance).
 * @throws InfermarketError `ERR_BAD_COMPARATOR` naming the field when the spec is malformed.
 * @example compareJobOutputs({ comparator: { kind: 'argmax-maxabs', tolerance: 1e-4 } }, ref, mined).match
 */
export function compareJobOutputs(specs: ModelComparators, expected: ComparableOutput, received: ComparableOutput): CompareResult {
  const isTokens = (x: ComparableOutput): boolean => !!x && typeof x === 'object' && 'kind' in x && x.kind === 'tokens';
  const tokens = isTokens(expected) || isTokens(received);
  const raw = tokens ? (specs.generationComparator ?? { kind: 'tokens' }) : (specs.comparator ?? { kind: 'exact' });
  return compareOutputs(parseComparatorSpec(raw), expected, received);
}

// ---- sampled generation near a sampling boundary (docs/verification.md) ----

/** One generation step as the validator re-executes it, teacher-forced on the miner's tokens so far. */
export interface SampledStep {
  /** The validator's own logits for this step (its history is the miner's claimed prefix). */
  logits: ArrayLike<number>;
  /** The step's uniform draw in [0, 1) from the job's seeded PRNG (the same draw the miner made). */
  u: number;
}

/** Options of {@link compareSampledTokens}. */
export interface SampledTokensSpec {
  /** Temperature of the job (≤ 0: greedy). */
  temperature: number;
  /** Calibrated honest logit divergence across CPUs and variants (docs/models.md: 1e-4, ≥ 13× the largest measured). */
  logitTolerance: number;
  /** Most near-boundary steps accepted in one job; more is rejected (default 2). */
  maxFlagged?: number;
}

/** What {@link compareSampledTokens} found: `flagged` lists the steps accepted only within the boundary margin. */
export interface SampledTokensResult extends CompareResult {
  flagged: number[];
  /** The cumulative-probability margin used: 2 · logitTolerance / temperature. */
  margin: number;
}

/**
 * Sampled generation, tolerant of honest numeric differences at a sampling boundary. At each step the
 * validator's own token (inverse CDF of softmax(logits / T) in id order at the shared draw `u`, exactly as
 * the sampler does) must equal the miner's, or the miner's token must be the one whose CDF interval lies
 * within `margin` of `u`: a logit shift of at most δ moves every cumulative probability by at most 2δ/T, so
 * an honest node on other hardware can only land on a token whose interval is that close to the draw. Such
 * steps are accepted and flagged; more than `maxFlagged` of them, a token count that differs, or any token
 * outside the margin rejects. A cheat gains nothing it can choose: only the neighbour of a draw already
 * within the margin of a boundary passes (≈ 2·margin of steps), and never a different token elsewhere.
 * Greedy steps (T ≤ 0) accept a different token only in a near tie (logit gap ≤ 2·logitTolerance).
 */
export function compareSampledTokens(spec: SampledTokensSpec, steps: readonly SampledStep[], claimed: readonly number[]): SampledTokensResult {
  const T = spec.temperature;
  const margin = T > 0 ? (2 * spec.logitTolerance) / T : 0;
  const maxFlagged = spec.maxFlagged ?? 2;
  const flagged: number[] = [];
  const fail = (reason: string): SampledTokensResult => ({ match: false, reason, flagged, margin });
  if (steps.length !== claimed.length) return fail(`token count differs: expected ${steps.length}, received ${claimed.length}`);
  for (let i = 0; i < steps.length; i++) {
    const { logits, u } = steps[i]!;
    const m = claimed[i]!;
    if (!Number.isInteger(m) || m < 0 || m >= logits.length) return fail(`token ${i} is ${m}, not an id of the ${logits.length}-token vocabulary`);
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    if (!(T > 0)) {
      if (m === best) continue;
      if (logits[best]! - logits[m]! > 2 * spec.logitTolerance) return fail(`tokens diverge at position ${i}: expected ${best}, received ${m} (not a near tie)`);
      flagged.push(i);
    } else {
      const p = new Float64Array(logits.length);
      let sum = 0;
      for (let j = 0; j < logits.length; j++) sum += p[j] = Math.exp((logits[j]! - logits[best]!) / T);
      // the claimed token's CDF interval [lo, hi), and the sampler's own token at the draw
      let acc = 0;
      for (let j = 0; j < m; j++) acc += p[j]!;
      const lo = acc / sum;
      const hi = (acc + p[m]!) / sum;
      const own = firstPast(p, u * sum);
      if (m === own) continue;
      const distance = u < lo ? lo - u : u >= hi ? u - hi : 0;
      if (distance > margin) return fail(`tokens diverge at position ${i}: expected ${own}, received ${m} (draw ${u} is ${distance.toExponential(2)} from its interval, margin ${margin.toExponential(2)})`);
      flagged.push(i);
    }
    if (flagged.length > maxFlagged) return fail(`${flagged.length} tokens accepted only within the boundary margin (at ${flagged.join(', ')}); at most ${maxFlagged} allowed`);
  }
  return { match: true, reason: flagged.length ? `all ${steps.length} tokens agree; ${flagged.length} within the boundary margin at ${flagged.join(', ')}` : `all ${steps.length} tokens identical`, flagged, margin };
}

/** The sampler's inverse CDF: the first id whose running sum exceeds `target` (the last id when none does). */
function firstPast(p: Float64Array, target: number): number {
  let t = target;
  for (let j = 0; j < p.length; j++) {
    t -= p[j]!;
    if (t < 0) return j;
  }
  return p.length - 1;
}
