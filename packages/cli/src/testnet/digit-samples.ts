import type { JobInput } from '@infermarket/protocol';
import { toWireTensor } from '@infermarket/miner';
import { DIGIT_SAMPLES_B64, DIGIT_SAMPLE_LABELS } from './digit-samples-data.js';

/** Number of bundled digit samples. */
export const DIGIT_SAMPLE_COUNT = DIGIT_SAMPLE_LABELS.length;

let pixels: Float32Array | null = null;

/**
 * Held-out MNIST image `i mod DIGIT_SAMPLE_COUNT` as a job input (float32 [1, 784]), identical to
 * `sampleInput('digits', i)` of the inference package for those indices, without loading the MNIST set.
 */
export function bundledDigitInput(i: number): { input: JobInput; label: number } {
  if (!pixels) {
    const raw = Buffer.from(DIGIT_SAMPLES_B64, 'base64');
    pixels = new Float32Array(raw.byteLength / 2);
    for (let k = 0; k < pixels.length; k++) pixels[k] = raw.readUInt16LE(k * 2) / 1000;
  }
  const n = ((Math.floor(i) % DIGIT_SAMPLE_COUNT) + DIGIT_SAMPLE_COUNT) % DIGIT_SAMPLE_COUNT;
  const data = pixels.slice(n * 784, (n + 1) * 784);
  return { input: { kind: 'tensor', tensor: toWireTensor({ dtype: 'float32', dims: [1, 784], data }) }, label: DIGIT_SAMPLE_LABELS[n]! };
}
