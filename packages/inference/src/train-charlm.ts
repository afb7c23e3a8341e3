import { createPrng } from './prng.js';
import { CHARLM_VOCAB } from './charlm-vocab.js';

/**
 * Weights of the GRU char LM (PyTorch-style GRU cell, "linear before reset"):
 * `gx = Wx[tok]`, `gh = h @ R + bR`, `z = σ(gx_z + gh_z)`, `r = σ(gx_r + gh_r)`,
 * `n = tanh(gx_n + r ⊙ gh_n)`, `h' = n + z ⊙ (h − n)`, `logits = h' @ Wo + bo`.
 */
export interface CharLmWeights {
  H: number;
  V: number;
  Wx: Float32Array; // [V, 3H] (input projection of a one-hot token, bias folded in)
  R: Float32Array; // [H, 3H]
  bR: Float32Array; // [3H]
  Wo: Float32Array; // [H, V]
  bo: Float32Array; // [V]
}

export interface TrainCharLmOptions {
  seed: number;
  hidden: number;
  epochs: number;
  seqLen?: number;
  batch?: number;
  learningRate?: number;
  onProgress?: (line: string) => void;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Trains the GRU char LM on `tokens` by truncated BPTT with Adam, in plain TypeScript (float64,
 * seeded: the same options give the same weights).
 */
export function trainCharLm(tokens: Int32Array, opts: TrainCharLmOptions): CharLmWeights {
  const H = opts.hidden, V = CHARLM_VOCAB, G = 3 * H;
  const T = opts.seqLen ?? 48, B = opts.batch ?? 16;
  const rng = createPrng(`charlm:${opts.seed}`);
  const init = (n: number, s: number): Float64Array => new Float64Array(n).map(() => rng.normal() * s);
  const params = {
    Wx: init(V * G, 0.1),
    R: init(H * G, 1 / Math.sqrt(H)),
    bR: new Float64Array(G),
    Wo: init(H * V, 1 / Math.sqrt(H)),
    bo: new Float64Array(V),
  };
  const names = Object.keys(params) as (keyof typeof params)[];
  const grads = Object.fromEntries(names.map((k) => [k, new Float64Array(params[k].length)])) as typeof params;
  const m1 = Object.fromEntries(names.map((k) => [k, new Float64Array(params[k].length)])) as typeof params;
  const m2 = Object.fromEntries(names.map((k) => [k, new Float64Array(params[k].length)])) as typeof params;
  const { Wx, R, bR, Wo, bo } = params;

  const segLen = Math.floor(tokens.length / B);
  const stepsPerEpoch = Math.floor((segLen - 1) / T);
  const TB = T * B;
  // Activations are stored feature-major ([feature][t*B+b]) so every weight gradient is a
  // contiguous dot product; the forward pass uses transposed weight copies for the same reason.
  const hPrevT = new Float64Array(H * TB); // h_{t-1} per (t,b)
  const hT = new Float64Array(H * TB); // h_t
  const zs = new Float64Array(TB * H), rs = new Float64Array(TB * H), ns = new Float64Array(TB * H), ghn = new Float64Array(TB * H);
  const hPrevRows = new Float64Array(TB * H);
  const dlogT = new Float64Array(V * TB);
  const dghT = new Float64Array(G * TB);
  const probs = new Float64Array(TB * V);
  const RT = new Float64Array(G * H), WoT = new Float64Array(V * H);
  const hCur = new Float64Array(B * H), gh = new Float64Array(G);
  const dh = new Float64Array(B * H), dhPrev = new Float64Array(B * H), dgh = new Float64Array(G), dxn = new Float64Array(H), dlog = new Float64Array(V);
  const transpose = (src: Float64Array, rows: number, cols: number, dst: Float64Array): void => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c]!;
  };
  const lr = opts.learningRate ?? 3e-3;
  let adamT = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    hCur.fill(0);
    let lossSum = 0, count = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const base = s * T;
      transpose(R, H, G, RT);
      transpose(Wo, H, V, WoT);
      // forward
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const tb = t * B + b;
          const hb = b * H;
          for (let k = 0; k < H; k++) {
            hPrevT[k * TB + tb] = hCur[hb + k]!;
            hPrevRows[tb * H + k] = hCur[hb + k]!;
          }
          for (let j = 0; j < G; j++) {
            let acc = bR[j]!;
            const row = j * H;
            for (let k = 0; k < H; k++) acc += hCur[hb + k]! * RT[row + k]!;
            gh[j] = acc;
          }
          const xr = tokens[b * segLen + base + t]! * G;
          for (let j = 0; j < H; j++) {
            const i = tb * H + j;
            const z = sigmoid(Wx[xr + j]! + gh[j]!);
            const r = sigmoid(Wx[xr + H + j]! + gh[H + j]!);
            const g = gh[2 * H + j]!;
            const n = Math.tanh(Wx[xr + 2 * H + j]! + r * g);
            zs[i] = z; rs[i] = r; ns[i] = n; ghn[i] = g;
            const hv = n + z * (hCur[hb + j]! - n);
            hCur[hb + j] = hv;
            hT[j * TB + tb] = hv;
          }
          let mx = -Infinity;
          const pb = tb * V;
          for (let v = 0; v < V; v++) {
            let acc = bo[v]!;
            const row = v * H;
            for (let k = 0; k < H; k++) acc += hCur[hb + k]! * WoT[row + k]!;
            probs[pb + v] = acc;
            if (acc > mx) mx = acc;
          }
          let sum = 0;
          for (let v = 0; v < V; v++) sum += (probs[pb + v] = Math.exp(probs[pb + v]! - mx));
          const target = tokens[b * segLen + base + t + 1]!;
          lossSum -= Math.log(probs[pb + target]! / sum);
          count++;
          for (let v = 0; v < V; v++) {
            const d = probs[pb + v]! / sum - (v === target ? 1 : 0);
            probs[pb + v] = d;
            dlogT[v * TB + tb] = d;
          }
        }
      }
      // backward through time
      dh.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        for (let b = 0; b < B; b++) {
          const tb = t * B + b;
          const hb = b * H;
          for (let v = 0; v < V; v++) dlog[v] = probs[tb * V + v]!;
          for (let k = 0; k < H; k++) {
            let acc = 0;
            const row = k * V;
            for (let v = 0; v < V; v++) acc += Wo[row + v]! * dlog[v]!;
            dh[hb + k]! += acc;
          }
          for (let j = 0; j < H; j++) {
            const i = tb * H + j;
            const z = zs[i]!, r = rs[i]!, n = ns[i]!, g = ghn[i]!;
            const d = dh[hb + j]!;
            const dn = d * (1 - z) * (1 - n * n);
            const dz = d * (hPrevRows[i]! - n) * z * (1 - z);
            const dr = dn * g * r * (1 - r);
            dhPrev[hb + j] = d * z;
            dgh[j] = dz; dgh[H + j] = dr; dgh[2 * H + j] = dn * r;
            dxn[j] = dn; // the input-side n gradient is not gated by r
            dghT[j * TB + tb] = dz; dghT[(H + j) * TB + tb] = dr; dghT[(2 * H + j) * TB + tb] = dn * r;
          }
          for (let k = 0; k < H; k++) {
            let acc = 0;
            const row = k * G;
            for (let j = 0; j < G; j++) acc += R[row + j]! * dgh[j]!;
            dhPrev[hb + k]! += acc;
          }
          const xr = tokens[b * segLen + base + t]! * G;
          for (let j = 0; j < H; j++) {
            grads.Wx[xr + j]! += dgh[j]!;
            grads.Wx[xr + H + j]! += dgh[H + j]!;
            grads.Wx[xr + 2 * H + j]! += dxn[j]!;
          }
        }
        dh.set(dhPrev);
      }
      // weight gradients as contiguous dot products over (t, b)
      for (let k = 0; k < H; k++) {
        const hk = k * TB;
        for (let j = 0; j < G; j++) {
          let acc = 0;
          const dj = j * TB;
          for (let q = 0; q < TB; q++) acc += hPrevT[hk + q]! * dghT[dj + q]!;
          grads.R[k * G + j] = acc;
        }
        for (let v = 0; v < V; v++) {
          let acc = 0;
          const dv = v * TB;
          for (let q = 0; q < TB; q++) acc += hT[hk + q]! * dlogT[dv + q]!;
          grads.Wo[k * V + v] = acc;
        }
      }
      for (let j = 0; j < G; j++) {
        let acc = 0;
        for (let q = 0; q < TB; q++) acc += dghT[j * TB + q]!;
        grads.bR[j] = acc;
      }
      for (let v = 0; v < V; v++) {
        let acc = 0;
        for (let q = 0; q < TB; q++) acc += dlogT[v * TB + q]!;
        grads.bo[v] = acc;
      }
      // clip + Adam
      let norm = 0;
      for (const k of names) for (const g of grads[k]) norm += g * g;
      norm = Math.sqrt(norm) / TB;
      const clip = norm > 1 ? 1 / norm : 1;
      adamT++;
      const b1 = 0.9, b2 = 0.999;
      const c1 = 1 - b1 ** adamT, c2 = 1 - b2 ** adamT;
      const epochLr = lr * (0.3 + 0.7 * (1 - epoch / opts.epochs));
      for (const k of names) {
        const p = params[k], g = grads[k], a = m1[k], v2 = m2[k];
        for (let i = 0; i < p.length; i++) {
          const gi = (g[i]! / TB) * clip;
          a[i] = b1 * a[i]! + (1 - b1) * gi;
          v2[i] = b2 * v2[i]! + (1 - b2) * gi * gi;
          p[i]! -= (epochLr * (a[i]! / c1)) / (Math.sqrt(v2[i]! / c2) + 1e-8);
        }
        g.fill(0);
      }
    }
    opts.onProgress?.(`charlm: epoch ${epoch + 1}/${opts.epochs} loss ${(lossSum / count).toFixed(4)} nats/char`);
  }
  return {
    H, V,
    Wx: Float32Array.from(Wx), R: Float32Array.from(R), bR: Float32Array.from(bR),
    Wo: Float32Array.from(Wo), bo: Float32Array.from(bo),
  };
}

/** One GRU step in float64 JS (reference for checking the ONNX graph). Returns `[logits, hNext]`. */
export function charLmStep(w: CharLmWeights, tok: number, h: ArrayLike<number>): [Float64Array, Float64Array] {
  const { H, V } = w, G = 3 * H;
  const gh = Float64Array.from(w.bR);
  for (let k = 0; k < H; k++) for (let j = 0; j < G; j++) gh[j]! += h[k]! * w.R[k * G + j]!;
  const hn = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const z = sigmoid(w.Wx[tok * G + j]! + gh[j]!);
    const r = sigmoid(w.Wx[tok * G + H + j]! + gh[H + j]!);
    const n = Math.tanh(w.Wx[tok * G + 2 * H + j]! + r * gh[2 * H + j]!);
    hn[j] = n + z * (h[j]! - n);
  }
  const logits = Float64Array.from(w.bo);
  for (let k = 0; k < H; k++) for (let v = 0; v < V; v++) logits[v]! += hn[k]! * w.Wo[k * V + v]!;
  return [logits, hn];
}
