import { tensorHash, type ModelId, type Runtime, type SegmentRunner, type Tensor, type Variant } from '@infermarket/inference';
import { hashPayload, type JobOutput } from '@infermarket/protocol';
import { toWireTensor } from './executor.js';

/** A layer trace as a miner commits it: the boundary tensors (input first, output last), their leaf hashes and the output. */
export interface LayerTrace {
  tensors: Tensor[];
  /** Leaf hashes: the job's input hash, each hidden boundary's `tensorHash`, the output's payload hash. */
  hashes: string[];
  output: JobOutput;
  /** Segments in the trace (L). */
  layers: number;
}

/**
 * The cheat the bisection game is built to catch, for the disputes benchmark and the tests: run `model` on
 * `x0` with its intermediates, perturb the tensor at boundary `corruptLayer` (1..L; +0.3 on every fifth
 * value), run the later layers on from it (`segments`), and return the trace of what was really computed —
 * so the cheater can open it faithfully and loses only on the referees' re-execution of that one layer.
 * `corruptLayer` null runs honestly. No honest node calls this.
 */
export async function corruptedTrace(o: {
  runtime: Runtime;
  segments: SegmentRunner;
  model: ModelId;
  variant: Variant;
  x0: Tensor;
  inputHash: string;
  corruptLayer: number | null;
}): Promise<LayerTrace> {
  const entry = o.runtime.manifest.models[o.model];
  const r = await o.runtime.run(o.model, o.variant, { [entry.inputs[0]!.name]: o.x0 }, { intermediates: true });
  const tensors: Tensor[] = [o.x0, ...entry.layerBoundaries.map((b) => r.outputs[b]!), r.primary];
  const k = o.corruptLayer;
  if (k !== null) {
    const d = new Float32Array(tensors[k]!.data as Float32Array);
    for (let i = 0; i < d.length; i += 5) d[i] = d[i]! + 0.3;
    tensors[k] = { ...tensors[k]!, data: d };
    for (let j = k + 1; j < tensors.length; j++) tensors[j] = await o.segments.run(j, tensors[j - 1]!);
  }
  const layers = tensors.length - 1;
  const output: JobOutput = { kind: 'tensor', tensor: toWireTensor(tensors[layers] as never) };
  return { tensors, hashes: [o.inputHash, ...tensors.slice(1, layers).map(tensorHash), hashPayload(output)], output, layers };
}
