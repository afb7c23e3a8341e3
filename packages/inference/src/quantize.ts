/**
 * Weight quantizers (pure functions). Weights are `[K, N]` row-major, used as `y = x @ W`.
 */

/** int8 weights with 7-bit range (±63), one scale per output column. */
export interface Int8Weights {
  q: Int8Array; // [K, N]
  scales: Float32Array; // [N]
}

/**
 * Symmetric per-column quantization to ±63. Seven bits keep u8×s8 pair sums below the int16
 * saturation point of AVX2 `vpmaddubsw`, which makes results bit-identical across CPU ISAs.
 */
export function quantizeInt8PerColumn(w: Float32Array, K: number, N: number): Int8Weights {
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + n]!));
    scales[n] = m > 0 ? m / 63 : 1;
  }
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const v = Math.round(w[k * N + n]! / scales[n]!);
      q[k * N + n] = Math.max(-63, Math.min(63, v));
    }
  }
  return { q, scales };
}

/** MatMulNBits (bits 4) packed weights: `B [N, kBlocks, blockSize/2]`, scales `[N, kBlocks]`, zero points packed two per byte. */
export interface Int4Weights {
  packed: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array;
  kBlocks: number;
  blockSize: number;
}

/**
 * Block-wise asymmetric 4-bit quantization along K (the MatMulNBits layout: row n of B holds column n
 * of W; low nibble first). Each block's range includes 0 so the zero point is exact.
 */
export function quantizeInt4Blocks(w: Float32Array, K: number, N: number, blockSize = 32): Int4Weights {
  const kBlocks = Math.ceil(K / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(N * kBlocks * blob);
  const scales = new Float32Array(N * kBlocks);
  const zpBytes = Math.ceil(kBlocks / 2);
  const zeroPoints = new Uint8Array(N * zpBytes);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < blockSize; i++) {
        const k = b * blockSize + i;
        if (k >= K) break;
        const v = w[k * N + n]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = Math.fround(hi - lo > 0 ? (hi - lo) / 15 : 1);
      const zp = Math.max(0, Math.min(15, Math.round(-lo / scale)));
      scales[n * kBlocks + b] = scale;
      zeroPoints[n * zpBytes + (b >> 1)]! |= b & 1 ? zp << 4 : zp;
      for (let i = 0; i < blockSize; i++) {
        const k = b * blockSize + i;
        const q = k < K ? Math.max(0, Math.min(15, Math.round(w[k * N + n]! / scale) + zp)) : zp;
        const idx = (n * kBlocks + b) * blob + (i >> 1);
        packed[idx]! |= i & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales, zeroPoints, kBlocks, blockSize };
}

/** Dequantizes MatMulNBits weights back to `[K, N]` (for reference checks). */
export function dequantizeInt4Blocks(q: Int4Weights, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  const blob = q.blockSize / 2;
  const zpBytes = Math.ceil(q.kBlocks / 2);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < q.kBlocks; b++) {
      const zpByte = q.zeroPoints[n * zpBytes + (b >> 1)]!;
      const zp = b & 1 ? zpByte >> 4 : zpByte & 15;
      const scale = q.scales[n * q.kBlocks + b]!;
      for (let i = 0; i < q.blockSize; i++) {
        const k = b * q.blockSize + i;
        if (k >= K) break;
        const byte = q.packed[(n * q.kBlocks + b) * blob + (i >> 1)]!;
        const v = i & 1 ? byte >> 4 : byte & 15;
        out[k * N + n] = (v - zp) * scale;
      }
    }
  }
  return out;
}
