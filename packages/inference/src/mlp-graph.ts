import { GraphBuilder } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { OnnxDataType } from './onnx-writer.js';

/** One dense layer `y = x @ W + b`, `W [K, N]` row-major. */
export interface DenseLayer {
  W: Float32Array;
  b: Float32Array;
  K: number;
  N: number;
}

/**
 * Encodes an MLP (ReLU between layers) as ONNX. Graph input `input [batch, K0]`, output
 * `output [batch, N_last]`; every hidden activation `h1..` is also a graph output (a layer
 * boundary) that the runtime fetches only on request.
 */
export function encodeMlp(opts: {
  name: string;
  layers: DenseLayer[];
  variant: Variant;
  input: string;
  output: string;
  doc: string;
}): { bytes: Uint8Array; boundaries: string[] } {
  const g = new GraphBuilder(opts.variant);
  let x = opts.input;
  const boundaries: string[] = [];
  opts.layers.forEach((l, i) => {
    const last = i === opts.layers.length - 1;
    const out = last ? opts.output : `fc${i + 1}.out`;
    g.linear(`fc${i + 1}`, x, l.W, l.b, l.K, l.N, out);
    if (!last) {
      const h = `h${i + 1}`;
      g.node('Relu', [out], [h]);
      boundaries.push(h);
      x = h;
    }
  });
  const first = opts.layers[0]!;
  const lastLayer = opts.layers[opts.layers.length - 1]!;
  const bytes = g.encode({
    graphName: opts.name,
    doc: opts.doc,
    inputs: [{ name: opts.input, elemType: OnnxDataType.FLOAT, shape: ['batch', first.K] }],
    outputs: [
      { name: opts.output, elemType: OnnxDataType.FLOAT, shape: ['batch', lastLayer.N] },
      ...boundaries.map((b, i) => ({ name: b, elemType: OnnxDataType.FLOAT, shape: ['batch', opts.layers[i]!.N] as (number | string)[] })),
    ],
  });
  return { bytes, boundaries };
}
