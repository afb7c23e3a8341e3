import { OnnxDataType, encodeOnnxModel, toRaw } from './onnx-writer.js';
import type { OnnxAttribute, OnnxDataTypeCode, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-writer.js';
import { toFloat16Array } from './fp16.js';
import { quantizeInt4Blocks, quantizeInt8PerColumn } from './quantize.js';

/** The four precision variants every model is built in. */
export type Variant = 'fp32' | 'fp16' | 'int8' | 'int4';
export const VARIANTS: readonly Variant[] = ['fp32', 'fp16', 'int8', 'int4'];

/** MatMulNBits accuracy_level: 0 keeps fp32 compute (honest cross-ISA divergence ≤ 3.8e-6, not bit-exact; level 4 differs by up to 5e-2; see docs/models.md). */
export const INT4_ACCURACY_LEVEL = 0;
export const INT4_BLOCK_SIZE = 32;

/** Eigen's `generic_fast_tanh_float`: clamp, odd numerator α1..α13 and even denominator β0..β6 (in x²). */
const TANH_CLAMP = 7.90531110763549805;
const TANH_ALPHA = [4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16];
const TANH_BETA = [4.89352518554385e-3, 2.26843463243900e-3, 1.18534705686654e-4, 1.19825839466702e-6];

/**
 * Builds one graph in one precision variant. `linear()` is the only place precision differs:
 * fp32 MatMul+Add; fp16 weights + Cast; int8 per-row activation quantization + MatMulInteger with
 * 7-bit weights; int4 com.microsoft MatMulNBits.
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private usesMicrosoft = false;
  private consts = new Map<string, string>();

  constructor(readonly variant: Variant) {}

  node(opType: string, inputs: string[], outputs: string[], attributes?: OnnxAttribute[], domain?: string): string[] {
    this.nodes.push({ opType, inputs, outputs, name: `${outputs[0]}_${opType}`, attributes, domain });
    if (domain === 'com.microsoft') this.usesMicrosoft = true;
    return outputs;
  }

  init(name: string, dataType: OnnxDataTypeCode, dims: number[], raw: Uint8Array): string {
    this.initializers.push({ name, dataType, dims, raw });
    return name;
  }

  /** A float parameter: fp32, or fp16 + Cast in the fp16 variant. */
  param(name: string, dims: number[], data: Float32Array): string {
    if (this.variant !== 'fp16') return this.init(name, OnnxDataType.FLOAT, dims, toRaw(data));
    this.init(`${name}_fp16`, OnnxDataType.FLOAT16, dims, toRaw(toFloat16Array(data)));
    this.node('Cast', [`${name}_fp16`], [name], [{ name: 'to', type: 'int', value: OnnxDataType.FLOAT }]);
    return name;
  }

  /**
   * `tanh(x)` from Clip, Mul, Add and Div only (Eigen's float rational approximation, degree 13/6,
   * |error| ≲ 1e-7 on [-7.9, 7.9], saturating beyond). ORT's `Tanh`/`Sigmoid` run different MLAS kernels
   * with and without FMA (sub-ulp differences that an int8 layer after them can round across a step);
   * these element-wise ops are single IEEE operations in ORT's Eigen kernels, so the result is
   * bit-identical on every x86-64 tier (measured: `infermarket models calibrate`).
   */
  tanh(x: string, out: string): string {
    const p = out;
    this.node('Clip', [x, this.constF(-TANH_CLAMP), this.constF(TANH_CLAMP)], [`${p}.xc`]);
    this.node('Mul', [`${p}.xc`, `${p}.xc`], [`${p}.x2`]);
    let num = this.constF(TANH_ALPHA[TANH_ALPHA.length - 1]!);
    for (let i = TANH_ALPHA.length - 2; i >= 0; i--) {
      this.node('Mul', [num, `${p}.x2`], [`${p}.pm${i}`]);
      num = this.node('Add', [`${p}.pm${i}`, this.constF(TANH_ALPHA[i]!)], [`${p}.pa${i}`])[0]!;
    }
    this.node('Mul', [num, `${p}.xc`], [`${p}.num`]);
    let den = this.constF(TANH_BETA[TANH_BETA.length - 1]!);
    for (let i = TANH_BETA.length - 2; i >= 0; i--) {
      this.node('Mul', [den, `${p}.x2`], [`${p}.qm${i}`]);
      den = this.node('Add', [`${p}.qm${i}`, this.constF(TANH_BETA[i]!)], [`${p}.qa${i}`])[0]!;
    }
    this.node('Div', [`${p}.num`, den], [out]);
    return out;
  }

  /** `sigmoid(x) = 0.5 · tanh(x / 2) + 0.5`, from the ISA-independent {@link GraphBuilder.tanh}. */
  sigmoid(x: string, out: string): string {
    this.node('Mul', [x, this.constF(0.5)], [`${out}.half`]);
    this.tanh(`${out}.half`, `${out}.t`);
    this.node('Mul', [`${out}.t`, this.constF(0.5)], [`${out}.th`]);
    this.node('Add', [`${out}.th`, this.constF(0.5)], [out]);
    return out;
  }

  private constF(value: number): string {
    const key = `f${value}`;
    const existing = this.consts.get(key);
    if (existing) return existing;
    const name = `const_f_${this.consts.size}`;
    this.consts.set(key, name);
    return this.init(name, OnnxDataType.FLOAT, [], toRaw(new Float32Array([value])));
  }

  private constRaw(key: string, dataType: OnnxDataTypeCode, dims: number[], raw: Uint8Array): string {
    const existing = this.consts.get(key);
    if (existing) return existing;
    const name = `const_${key}`;
    this.consts.set(key, name);
    return this.init(name, dataType, dims, raw);
  }

  /** `y = x @ W + b` for `W [K, N]`; returns the output name `out`. */
  linear(prefix: string, x: string, W: Float32Array, b: Float32Array, K: number, N: number, out: string): string {
    switch (this.variant) {
      case 'fp32':
      case 'fp16': {
        const w = this.param(`${prefix}.weight`, [K, N], W);
        const bias = this.param(`${prefix}.bias`, [N], b);
        this.node('MatMul', [x, w], [`${prefix}.mm`]);
        this.node('Add', [`${prefix}.mm`, bias], [out]);
        return out;
      }
      case 'int8': {
        // Per-row symmetric activation quantization from standard ops: each row's scale depends on that
        // row only, so results do not depend on batch composition (DynamicQuantizeMatMul's do).
        const q = quantizeInt8PerColumn(W, K, N);
        const wq = this.init(`${prefix}.weight_q`, OnnxDataType.INT8, [K, N], toRaw(q.q));
        const ws = this.init(`${prefix}.weight_scale`, OnnxDataType.FLOAT, [N], toRaw(q.scales));
        const bias = this.init(`${prefix}.bias`, OnnxDataType.FLOAT, [N], toRaw(b));
        const axes = this.constRaw('axes_last', OnnxDataType.INT64, [1], toRaw(new BigInt64Array([-1n])));
        const zp = this.constRaw('zp_u8_128', OnnxDataType.UINT8, [], new Uint8Array([128]));
        const p = prefix;
        this.node('Abs', [x], [`${p}.abs`]);
        this.node('ReduceMax', [`${p}.abs`, axes], [`${p}.rowmax`], [{ name: 'keepdims', type: 'int', value: 1 }]);
        this.node('Max', [`${p}.rowmax`, this.constF(1e-12)], [`${p}.rowmax_nz`]);
        this.node('Mul', [`${p}.rowmax_nz`, this.constF(1 / 127)], [`${p}.xscale`]);
        this.node('Div', [x, `${p}.xscale`], [`${p}.xs`]);
        this.node('Round', [`${p}.xs`], [`${p}.xr`]);
        this.node('Add', [`${p}.xr`, this.constF(128)], [`${p}.xu`]);
        this.node('Cast', [`${p}.xu`], [`${p}.xq`], [{ name: 'to', type: 'int', value: OnnxDataType.UINT8 }]);
        this.node('MatMulInteger', [`${p}.xq`, wq, zp], [`${p}.acc`]);
        this.node('Cast', [`${p}.acc`], [`${p}.accf`], [{ name: 'to', type: 'int', value: OnnxDataType.FLOAT }]);
        this.node('Mul', [`${p}.accf`, `${p}.xscale`], [`${p}.y1`]);
        this.node('Mul', [`${p}.y1`, ws], [`${p}.y2`]);
        this.node('Add', [`${p}.y2`, bias], [out]);
        return out;
      }
      case 'int4': {
        const q = quantizeInt4Blocks(W, K, N, INT4_BLOCK_SIZE);
        const blob = INT4_BLOCK_SIZE / 2;
        const wb = this.init(`${prefix}.weight_q4`, OnnxDataType.UINT8, [N, q.kBlocks, blob], q.packed);
        const ws = this.init(`${prefix}.weight_scales`, OnnxDataType.FLOAT, [N * q.kBlocks], toRaw(q.scales));
        const wz = this.init(`${prefix}.weight_zp`, OnnxDataType.UINT8, [q.zeroPoints.length], q.zeroPoints);
        const bias = this.init(`${prefix}.bias`, OnnxDataType.FLOAT, [N], toRaw(b));
        this.node('MatMulNBits', [x, wb, ws, wz], [`${prefix}.mm`], [
          { name: 'K', type: 'int', value: K },
          { name: 'N', type: 'int', value: N },
          { name: 'bits', type: 'int', value: 4 },
          { name: 'block_size', type: 'int', value: INT4_BLOCK_SIZE },
          { name: 'accuracy_level', type: 'int', value: INT4_ACCURACY_LEVEL },
        ], 'com.microsoft');
        this.node('Add', [`${prefix}.mm`, bias], [out]);
        return out;
      }
    }
  }

  /** Encodes the graph to ONNX bytes. */
  encode(opts: { graphName: string; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[]; doc: string }): Uint8Array {
    const opsets: Record<string, number> = { '': 21 };
    if (this.usesMicrosoft) opsets['com.microsoft'] = 1;
    return encodeOnnxModel({
      graphName: opts.graphName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: opts.inputs,
      outputs: opts.outputs,
      opsets,
      docString: opts.doc,
    });
  }
}
