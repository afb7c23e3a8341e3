import { InfermarketError } from './errors.js';
import type { JobInput, JobOutput } from './wire.js';

/** What a model's output must look like: the manifest's declared output (a string dim is symbolic, e.g. `'batch'`, `'vocab'`). */
export interface OutputContract {
  dtype: string;
  shape: readonly (number | string)[];
}

/** Length of an output against what the input asked for. Lengths are tokens (generation) or tensor elements. */
export interface OutputLength {
  /** Tokens delivered, or tensor elements. */
  length: number;
  /** What the input asked for: `maxTokens` (charlm has no stop token, so it must return exactly that), or the elements the declared dims give. */
  expected: number;
  ok: boolean;
  /** Why it is not a valid result (empty when `ok`). */
  problem: string;
}

const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({ float32: 4, int32: 4, int64: 8, uint8: 1, float16: 2 });

function base64Bytes(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

/**
 * Does this output answer this input? Generation must deliver exactly `maxTokens` tokens (the models here
 * have no stop token); a tensor output must have the contract's dtype, the input's batch as its first dim,
 * the declared fixed dims after it and exactly as many bytes as its dims need. Sealed (private) payloads
 * cannot be measured by the market: `null`.
 * @example outputLength({ kind: 'prompt', prompt: 'a', maxTokens: 20, temperature: 0.8, seed: 1 }, out) // { length: 12, expected: 20, ok: false, … }
 */
export function outputLength(input: JobInput, output: JobOutput, contract?: OutputContract): OutputLength | null {
  if (input.kind === 'sealed' || output.kind === 'sealed') return null;
  if (input.kind === 'prompt') {
    const expected = input.maxTokens;
    if (output.kind !== 'tokens') return { length: 0, expected, ok: false, problem: `a prompt must be answered with tokens, got a ${output.kind}` };
    const length = output.tokens.length;
    const ok = length === expected;
    return { length, expected, ok, problem: ok ? '' : `${length} tokens delivered, ${expected} asked ("maxTokens")` };
  }
  const batch = input.tensor.dims[0] ?? 1;
  if (output.kind !== 'tensor') return { length: 0, expected: 0, ok: false, problem: `a tensor input must be answered with a tensor, got ${output.kind}` };
  const t = output.tensor;
  const length = t.dims.reduce((a, d) => a * d, 1);
  let expectedDims: number[] | null = null;
  if (contract && contract.shape.slice(1).every((d) => typeof d === 'number')) expectedDims = [batch, ...(contract.shape.slice(1) as number[])];
  const expected = expectedDims ? expectedDims.reduce((a, d) => a * d, 1) : length;
  const problems: string[] = [];
  if (contract && t.dtype !== contract.dtype) problems.push(`dtype ${t.dtype}, declared ${contract.dtype}`);
  if (expectedDims && (t.dims.length !== expectedDims.length || t.dims.some((d, i) => d !== expectedDims![i]))) {
    problems.push(`dims [${t.dims.join(', ')}], expected [${expectedDims.join(', ')}]`);
  }
  const width = DTYPE_BYTES[t.dtype];
  if (width === undefined) problems.push(`unknown dtype ${t.dtype}`);
  else if (base64Bytes(t.data) !== length * width) problems.push(`${base64Bytes(t.data)} bytes for ${length} ${t.dtype} elements`);
  return { length, expected, ok: problems.length === 0, problem: problems.join('; ') };
}

/**
 * Refuse an output that does not answer the input (see `outputLength`): a short, long or malformed result is
 * not a valid result and never reaches the rules.
 * @throws InfermarketError `ERR_BAD_OUTPUT` naming what is wrong.
 */
export function checkOutputLength(input: JobInput, output: JobOutput, contract?: OutputContract): OutputLength | null {
  const r = outputLength(input, output, contract);
  if (r && !r.ok) throw new InfermarketError('ERR_BAD_OUTPUT', `"output" does not answer the input: ${r.problem}`, { details: { field: 'output' } });
  return r;
}
