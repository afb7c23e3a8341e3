import { compareJobOutputs, InfermarketError, type JobInput, type JobOutput } from '@infermarket/protocol';
import { sampleInput, type ModelId } from '@infermarket/inference';
import { toWireTensor } from '@infermarket/miner';
import { bundledDigitInput, DIGIT_SAMPLE_COUNT } from './digit-samples.js';

/** A job input from a deterministic sample (digits: held-out MNIST image `seed`; charlm: a prompt). */
export function sampleJobInput(model: string, seed: number, opts: { maxTokens?: number; temperature?: number } = {}): { input: JobInput; label?: number } {
  if (model !== 'digits' && model !== 'charlm' && model !== 'heavy' && model !== 'deep') throw new InfermarketError('ERR_UNKNOWN_MODEL', `"--model" must be digits, charlm, heavy or deep, got ${JSON.stringify(model)}`);
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

/** Whether two outputs agree the way validators compare them (the protocol's `compareJobOutputs`): identical tokens, or per-row argmax equal and max |Δ| ≤ tolerance. */
export function outputsAgree(a: JobOutput, b: JobOutput, tolerance: number): { match: boolean; maxAbsDiff: number } {
  if (a.kind === 'sealed' || b.kind === 'sealed') return { match: false, maxAbsDiff: Infinity };
  const r = compareJobOutputs({ comparator: { kind: 'argmax-maxabs', tolerance } }, a, b);
  return { match: r.match, maxAbsDiff: a.kind === 'tokens' && b.kind === 'tokens' ? 0 : (r.maxAbsDiff ?? Infinity) };
}

