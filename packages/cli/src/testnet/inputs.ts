import { InfermarketError, type JobInput, type JobOutput } from '@infermarket/protocol';
import { sampleInput, type ModelId } from '@infermarket/inference';
import { toWireTensor } from '@infermarket/miner';
import { bundledDigitInput, DIGIT_SAMPLE_COUNT } from './digit-samples.js';

/** A job input from a deterministic sample (digits: held-out MNIST image `seed`; charlm: a prompt). */
export function sampleJobInput(model: string, seed: number, opts: { maxTokens?: number; temperature?: number } = {}): { input: JobInput; label?: number } {
  if (model !== 'digits' && model !== 'charlm' && model !== 'heavy') throw new InfermarketError('ERR_UNKNOWN_MODEL', `"--model" must be digits, charlm or heavy, got ${JSON.stringify(model)}`);
  const s = sampleInput(model as ModelId, seed);
  if (model === 'charlm') {
    return { input: { kind: 'prompt', prompt: s.prompt ?? 'The ', maxTokens: opts.maxTokens ?? 24, temperature: opts.temperature ?? 0, seed } };
  }
  const t = Object.values(s.input)[0]!;
  return { input: { kind: 'tensor', tensor: toWireTensor(t) }, ...(s.label !== undefined ? { label: s.label } : {}) };
}

/** A digits input showing digit `digit` (the first held-out image with that label). */
export function digitInput(digit: number): JobInput {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new InfermarketError('ERR_VALIDATION', `"--digit" must be an integer 0-9, got ${digit}`);
  // the bundled held-out images hold every digit: no need to load the MNIST set
  for (let i = 0; i < DIGIT_SAMPLE_COUNT; i++) {
    const s = bundledDigitInput(i);
    if (s.label === digit) return s.input;
  }
  throw new InfermarketError('ERR_INTERNAL', `no held-out image of digit ${digit}`);
}

/** A short human rendering of an output: the predicted class or the generated text. */
export function describeOutput(output: JobOutput | null): string {
  if (!output) return '(none)';
  if (output.kind === 'tokens') return JSON.stringify(output.text);
  if (output.kind === 'sealed') return '(sealed)';
  const buf = Buffer.from(output.tensor.data, 'base64');
  const v = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return `class ${best} (dims ${output.tensor.dims.join('×')})`;
}

/** Whether two outputs agree the way validators compare them: identical tokens, or per-row argmax equal and max |Δ| ≤ tolerance. */
export function outputsAgree(a: JobOutput, b: JobOutput, tolerance: number): { match: boolean; maxAbsDiff: number } {
  if (a.kind === 'tokens' && b.kind === 'tokens') {
    return { match: a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t === b.tokens[i]), maxAbsDiff: 0 };
  }
  if (a.kind !== 'tensor' || b.kind !== 'tensor') return { match: false, maxAbsDiff: Infinity };
  if (a.tensor.dims.join() !== b.tensor.dims.join()) return { match: false, maxAbsDiff: Infinity };
  const fa = toF32(a.tensor.data), fb = toF32(b.tensor.data);
  if (fa.length !== fb.length) return { match: false, maxAbsDiff: Infinity };
  const width = a.tensor.dims[a.tensor.dims.length - 1] ?? fa.length;
  let diff = 0;
  for (let i = 0; i < fa.length; i++) diff = Math.max(diff, Math.abs(fa[i]! - fb[i]!));
  for (let off = 0; off < fa.length; off += width) {
    let ia = off, ib = off;
    for (let j = off; j < off + width; j++) {
      if (fa[j]! > fa[ia]!) ia = j;
      if (fb[j]! > fb[ib]!) ib = j;
    }
    if (ia !== ib && fa[ia]! - fa[ib]! > 2 * tolerance) return { match: false, maxAbsDiff: diff };
  }
  return { match: diff <= tolerance, maxAbsDiff: diff };
}

function toF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
