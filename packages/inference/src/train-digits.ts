import type { DenseLayer } from './mlp-graph.js';
import { createPrng } from './prng.js';
import { DIGIT_PIXELS } from './digits-data.js';
import type { DigitsData } from './digits-data.js';

export interface TrainDigitsOptions {
  seed: number;
  hidden: number;
  epochs: number;
  /** Use only the first n training images (small/fast builds). */
  trainLimit?: number;
  learningRate?: number;
  batchSize?: number;
  onProgress?: (line: string) => void;
}

/**
 * Trains a 784-H-10 ReLU MLP with minibatch SGD + momentum in plain TypeScript (float64 maths,
 * seeded init and shuffling: the same options give the same weights, bit for bit).
 */
export function trainDigits(data: DigitsData, opts: TrainDigitsOptions): DenseLayer[] {
  const H = opts.hidden;
  const D = DIGIT_PIXELS;
  const C = 10;
  const rng = createPrng(`digits:${opts.seed}`);
  const W1 = new Float64Array(D * H).map(() => rng.normal() * Math.sqrt(2 / D));
  const b1 = new Float64Array(H);
  const W2 = new Float64Array(H * C).map(() => rng.normal() * Math.sqrt(1 / H));
  const b2 = new Float64Array(C);
  const vW1 = new Float64Array(W1.length), vb1 = new Float64Array(H), vW2 = new Float64Array(W2.length), vb2 = new Float64Array(C);
  const gW1 = new Float64Array(W1.length), gb1 = new Float64Array(H), gW2 = new Float64Array(W2.length), gb2 = new Float64Array(C);
  const n = Math.min(opts.trainLimit ?? Infinity, data.trainY.length);
  const bs = opts.batchSize ?? 32;
  const lr0 = opts.learningRate ?? 0.05;
  const mom = 0.9;
  const order = Array.from({ length: n }, (_, i) => i);
  const h = new Float64Array(H), dh = new Float64Array(H), z = new Float64Array(C);
  const nz = new Int32Array(D);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = lr0 * 0.5 * (1 + Math.cos((Math.PI * epoch) / opts.epochs));
    let loss = 0;
    for (let start = 0; start < n; start += bs) {
      const end = Math.min(n, start + bs);
      gW1.fill(0); gb1.fill(0); gW2.fill(0); gb2.fill(0);
      for (let s = start; s < end; s++) {
        const idx = order[s]!;
        const off = idx * D;
        let nnz = 0;
        for (let k = 0; k < D; k++) if (data.trainX[off + k] !== 0) nz[nnz++] = k;
        h.set(b1);
        for (let t = 0; t < nnz; t++) {
          const k = nz[t]!;
          const xv = data.trainX[off + k]!;
          const row = k * H;
          for (let j = 0; j < H; j++) h[j]! += xv * W1[row + j]!;
        }
        for (let j = 0; j < H; j++) if (h[j]! < 0) h[j] = 0;
        let mx = -Infinity;
        for (let c = 0; c < C; c++) {
          let acc = b2[c]!;
          for (let j = 0; j < H; j++) acc += h[j]! * W2[j * C + c]!;
          z[c] = acc;
          if (acc > mx) mx = acc;
        }
        let sum = 0;
        for (let c = 0; c < C; c++) sum += (z[c] = Math.exp(z[c]! - mx));
        const y = data.trainY[idx]!;
        loss -= Math.log(z[y]! / sum);
        for (let c = 0; c < C; c++) z[c] = z[c]! / sum - (c === y ? 1 : 0);
        for (let j = 0; j < H; j++) {
          let g = 0;
          const hj = h[j]!;
          for (let c = 0; c < C; c++) {
            g += W2[j * C + c]! * z[c]!;
            gW2[j * C + c]! += hj * z[c]!;
          }
          dh[j] = hj > 0 ? g : 0;
          gb1[j]! += dh[j]!;
        }
        for (let c = 0; c < C; c++) gb2[c]! += z[c]!;
        for (let t = 0; t < nnz; t++) {
          const k = nz[t]!;
          const xv = data.trainX[off + k]!;
          const row = k * H;
          for (let j = 0; j < H; j++) gW1[row + j]! += xv * dh[j]!;
        }
      }
      const scale = lr / (end - start);
      const step = (p: Float64Array, v: Float64Array, g: Float64Array): void => {
        for (let i = 0; i < p.length; i++) {
          v[i] = mom * v[i]! - scale * g[i]!;
          p[i]! += v[i]!;
        }
      };
      step(W1, vW1, gW1); step(b1, vb1, gb1); step(W2, vW2, gW2); step(b2, vb2, gb2);
    }
    opts.onProgress?.(`digits: epoch ${epoch + 1}/${opts.epochs} loss ${(loss / n).toFixed(4)}`);
  }
  return [
    { W: Float32Array.from(W1), b: Float32Array.from(b1), K: D, N: H },
    { W: Float32Array.from(W2), b: Float32Array.from(b2), K: H, N: C },
  ];
}

/** Accuracy of a float64 JS forward pass of the MLP on rows of `x` (reference for the ONNX run). */
export function mlpAccuracy(layers: DenseLayer[], x: Float32Array, y: Uint8Array): number {
  let correct = 0;
  for (let r = 0; r < y.length; r++) {
    let act: Float64Array = Float64Array.from(x.subarray(r * layers[0]!.K, (r + 1) * layers[0]!.K));
    layers.forEach((l, li) => {
      const out = Float64Array.from(l.b);
      for (let k = 0; k < l.K; k++) {
        const v = act[k]!;
        if (v === 0) continue;
        for (let j = 0; j < l.N; j++) out[j]! += v * l.W[k * l.N + j]!;
      }
      if (li < layers.length - 1) for (let j = 0; j < l.N; j++) if (out[j]! < 0) out[j] = 0;
      act = out;
    });
    let best = 0;
    for (let j = 1; j < act.length; j++) if (act[j]! > act[best]!) best = j;
    if (best === y[r]) correct++;
  }
  return correct / y.length;
}
