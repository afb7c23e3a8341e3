import { GraphBuilder } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { OnnxDataType } from './onnx-writer.js';
import type { CharLmWeights } from './train-charlm.js';

/**
 * Encodes one GRU step of the char LM as ONNX. Inputs `tok int32 [batch]`, `h float32 [batch, H]`;
 * outputs `logits [batch, V]`, `h_out [batch, H]` (the recurrent state the caller feeds back), and the
 * layer boundaries `gates_x`, `gates_h` on request. The input table `Wx` is a Gather (no matmul), so it
 * stays fp32 except in the fp16 variant; `R` and the output projection go through `linear()`.
 * Sigmoid and tanh are {@link GraphBuilder.sigmoid}/{@link GraphBuilder.tanh} (element-wise rational
 * approximations), not ORT's `Sigmoid`/`Tanh`: those kernels differ by up to 7.9e-7 with and without FMA,
 * and the int8 head rounded such differences across a quantization step in 29% of cross-CPU jobs.
 */
export function encodeCharLm(w: CharLmWeights, variant: Variant, doc: string): { bytes: Uint8Array; boundaries: string[] } {
  const { H, V } = w;
  const G = 3 * H;
  const g = new GraphBuilder(variant);
  const table = g.param('embed.table', [V, G], w.Wx);
  g.node('Gather', [table, 'tok'], ['gates_x'], [{ name: 'axis', type: 'int', value: 0 }]);
  g.linear('gru.recurrent', 'h', w.R, w.bR, H, G, 'gates_h');
  g.node('Split', ['gates_x'], ['x_z', 'x_r', 'x_n'], [{ name: 'axis', type: 'int', value: 1 }, { name: 'num_outputs', type: 'int', value: 3 }]);
  g.node('Split', ['gates_h'], ['h_z', 'h_r', 'h_n'], [{ name: 'axis', type: 'int', value: 1 }, { name: 'num_outputs', type: 'int', value: 3 }]);
  g.node('Add', ['x_z', 'h_z'], ['z_pre']);
  g.sigmoid('z_pre', 'z');
  g.node('Add', ['x_r', 'h_r'], ['r_pre']);
  g.sigmoid('r_pre', 'r');
  g.node('Mul', ['r', 'h_n'], ['rh_n']);
  g.node('Add', ['x_n', 'rh_n'], ['n_pre']);
  g.tanh('n_pre', 'n');
  g.node('Sub', ['h', 'n'], ['h_minus_n']);
  g.node('Mul', ['z', 'h_minus_n'], ['z_h_minus_n']);
  g.node('Add', ['n', 'z_h_minus_n'], ['h_out']);
  g.linear('head', 'h_out', w.Wo, w.bo, H, V, 'logits');
  const bytes = g.encode({
    graphName: 'charlm',
    doc,
    inputs: [
      { name: 'tok', elemType: OnnxDataType.INT32, shape: ['batch'] },
      { name: 'h', elemType: OnnxDataType.FLOAT, shape: ['batch', H] },
    ],
    outputs: [
      { name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch', V] },
      { name: 'h_out', elemType: OnnxDataType.FLOAT, shape: ['batch', H] },
      { name: 'gates_x', elemType: OnnxDataType.FLOAT, shape: ['batch', G] },
      { name: 'gates_h', elemType: OnnxDataType.FLOAT, shape: ['batch', G] },
    ],
  });
  return { bytes, boundaries: ['gates_x', 'gates_h'] };
}
