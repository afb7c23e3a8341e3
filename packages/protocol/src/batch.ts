/**
 * Batch jobs: one job carrying `rows` input rows (the first, batch dim of its input tensor), priced per row,
 * run by the miner as one batch, committed under one output hash (over the whole output tensor, so every row),
 * and audited by re-executing a sample of its rows drawn after the commit (docs/verification.md).
 * Pure functions: no I/O, no clock, no randomness source but the epoch seed.
 */
import { compareJobOutputs, decodeBase64, type CompareResult, type ModelComparators } from './comparators.js';
import { InfermarketError } from './errors.js';
import type { Params } from './params.js';
import { uniformFromSeed } from './selection.js';
import type { Job } from './types.js';
import type { JobOutput, WireTensor } from './wire.js';

/** Rows of a job (a job submitted without `rows` has one). */
export function jobRows(job: Pick<Job, 'rows'>): number {
  return job.rows ?? 1;
}

/**
 * Check a submission's `rows`: an integer from 1 to `maxBatchRows`; a private job takes one row (its input is
 * sealed: nobody but its parties can split it into rows, so rows cannot be sampled).
 * @returns the row count (1 when absent).
 * @throws InfermarketError `ERR_BAD_BATCH` naming the field `rows`.
 */
export function checkBatchRows(params: Pick<Params, 'maxBatchRows'>, rows: unknown, opts: { private?: boolean } = {}): number {
  if (rows === undefined) return 1;
  if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 1 || rows > params.maxBatchRows) {
    throw new InfermarketError('ERR_BAD_BATCH', `"rows" must be an integer from 1 to ${params.maxBatchRows} (maxBatchRows), got ${JSON.stringify(rows)}`, {
      details: { field: 'rows' },
    });
  }
  if (rows > 1 && opts.private === true) {
    throw new InfermarketError('ERR_BAD_BATCH', `"rows" must be 1 for a private job (its sealed input cannot be split into rows for a sampled audit), got ${rows}`, {
      details: { field: 'rows' },
    });
  }
  return rows;
}

/**
 * The rows a validator re-executes for a batch job: `min(count, rows)` distinct rows, sorted, drawn by a partial
 * Fisher–Yates shuffle whose i-th draw is H(epoch seed ‖ "rows" ‖ jobId ‖ i). The seed is secret until its epoch
 * ends and the draw is made after the miner's commit, so the miner cannot know which rows will be checked; anyone
 * can recompute the draw once the seed is revealed.
 * @example sampleAuditRows(seed, 'job-1', 32, 4) // e.g. [3, 11, 17, 30]
 */
export function sampleAuditRows(seedHex: string, jobId: string, rows: number, count: number): number[] {
  const s = Math.min(count, rows);
  const perm = new Map<number, number>();
  const at = (i: number): number => perm.get(i) ?? i;
  const out: number[] = [];
  for (let i = 0; i < s; i++) {
    const j = i + Math.floor(uniformFromSeed(seedHex, 'rows', jobId, i) * (rows - i));
    const vi = at(i);
    const vj = at(j);
    perm.set(i, vj);
    perm.set(j, vi);
    out.push(vj);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Probability that a sampled audit of `s` rows (drawn without replacement) out of `n` catches a miner that
 * corrupted `k` of them: 1 − C(n−k, s) / C(n, s). Multiply by the job's audit probability for the whole chance.
 */
export function batchCatchProbability(n: number, k: number, s: number): number {
  const take = Math.min(s, n);
  let miss = 1;
  for (let i = 0; i < take; i++) miss *= Math.max(0, n - k - i) / (n - i);
  return 1 - miss;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function encodeBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (i + 1 < b.length ? B64[(n >> 6) & 63]! : '=') + (i + 2 < b.length ? B64[n & 63]! : '=');
  }
  return s;
}

/**
 * The rows `picks` of a wire tensor whose first dim is the batch: a tensor of `picks.length` rows, in the order given.
 * @throws InfermarketError `ERR_BAD_BATCH` when the tensor has no such rows or its bytes do not split into rows.
 */
export function sliceTensorRows(t: WireTensor, picks: readonly number[]): WireTensor {
  const n = t.dims[0] ?? 0;
  const bytes = decodeBase64(t.data);
  if (!bytes || n < 1 || bytes.length % n !== 0) {
    throw new InfermarketError('ERR_BAD_BATCH', `a tensor of dims [${t.dims.join(', ')}] and ${bytes?.length ?? 'malformed'} bytes does not split into ${n} rows`, { details: { field: 'tensor' } });
  }
  const width = bytes.length / n;
  const out = new Uint8Array(width * picks.length);
  picks.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new InfermarketError('ERR_BAD_BATCH', `row ${r} is outside a batch of ${n} rows`, { details: { field: 'rows' } });
    out.set(bytes.subarray(r * width, (r + 1) * width), i * width);
  });
  return { dtype: t.dtype, dims: [picks.length, ...t.dims.slice(1)], data: encodeBase64(out) };
}

/** A tensor input or output restricted to rows `picks` (anything else is returned as is). */
export function sliceRows<T extends { kind: string }>(payload: T, picks: readonly number[]): T {
  if (payload.kind !== 'tensor') return payload;
  const p = payload as unknown as { kind: 'tensor'; tensor: WireTensor };
  return { ...payload, tensor: sliceTensorRows(p.tensor, picks) };
}

/** Per-row verdict of a sampled audit; `badRow` is the first sampled row (its index in the job) that disagrees, or null. */
export interface RowsCompareResult extends CompareResult {
  badRow: number | null;
}

/**
 * The comparison that decides a batch job's sampled audit: the miner's committed output, restricted to the
 * sampled rows, against a re-execution of those rows only (`reexecuted` has `picks.length` rows, in `picks`'
 * order), the model's comparator applied row by row. One row that disagrees fails the audit.
 * @throws InfermarketError `ERR_BAD_COMPARATOR` for a malformed comparator spec.
 */
export function compareSampledRows(specs: ModelComparators, mined: JobOutput, reexecuted: JobOutput, picks: readonly number[]): RowsCompareResult {
  if (mined.kind !== 'tensor' || reexecuted.kind !== 'tensor') return { match: false, badRow: null, reason: 'a batch job is answered with tensors' };
  if (reexecuted.tensor.dims[0] !== picks.length) {
    return { match: false, badRow: null, reason: `the re-execution has ${reexecuted.tensor.dims[0]} rows, ${picks.length} were sampled` };
  }
  let mine: WireTensor;
  try {
    mine = sliceTensorRows(mined.tensor, picks);
  } catch (e) {
    return { match: false, badRow: null, reason: (e as Error).message };
  }
  for (let i = 0; i < picks.length; i++) {
    const a = { kind: 'tensor' as const, tensor: sliceTensorRows(reexecuted.tensor, [i]) };
    const b = { kind: 'tensor' as const, tensor: sliceTensorRows(mine, [i]) };
    const r = compareJobOutputs(specs, a, b);
    if (!r.match) return { ...r, badRow: picks[i]!, reason: `row ${picks[i]}: ${r.reason}` };
  }
  return { match: true, badRow: null, reason: `all ${picks.length} sampled rows agree` };
}
