import { createSegmentRunner, type ModelId, type Runtime, type Tensor, type Variant } from '@infermarket/inference';
import { corruptedTrace, fromWireTensor, startNode, toWireTensor, type Node } from '@infermarket/node-runtime';
import { traceProof, traceRoot, type JobInput, type KeyPair, type ServerMessage } from '@infermarket/protocol';

/**
 * A miner that alters one layer of its run (the cheat the bisection game is built to catch): it runs the model
 * with its intermediates, perturbs the tensor at boundary `corruptLayer(jobId)`, runs the later layers on from it
 * (`createSegmentRunner`), commits the trace of what it really computed and sends that output. In the game it opens
 * its own (corrupted) trace faithfully, so it loses only on the referees' re-execution of the corrupted layer.
 * The honest miner never does this; the disputes benchmark and nothing else drives it.
 */
export function startCorruptMiner(opts: {
  wsUrl: string;
  keys: KeyPair;
  runtime: Runtime;
  model: ModelId;
  variant: Variant;
  /** The layer (1..L) to corrupt in job `jobId`, or null to run it honestly. */
  corruptLayer: (jobId: string) => number | null;
  priceMicro?: string;
  log?: (e: Record<string, unknown>) => void;
  /** Every market message as it arrives (the benchmark waits on `job.lost` / `job.settled`, counts `bisect.turn`). */
  onMessage?: (msg: ServerMessage) => void;
}): Node {
  const { runtime, model, variant } = opts;
  const seg = createSegmentRunner({ manifest: runtime.manifest, model, variant, modelsDir: runtime.modelsDir });
  const traces = new Map<string, { hashes: string[]; tensors: Tensor[] }>();
  const log = opts.log ?? (() => {});
  const run = async (msg: Extract<ServerMessage, { type: 'job.assign' }>): Promise<void> => {
    if (msg.input.kind !== 'tensor') return;
    const x0 = fromWireTensor(msg.input.tensor) as Tensor;
    const { tensors, hashes, output, layers: L } = await corruptedTrace({ runtime, segments: seg, model, variant, x0, inputHash: msg.inputHash, corruptLayer: opts.corruptLayer(msg.jobId) });
    traces.set(msg.jobId, { hashes, tensors });
    const envelope = node.conn.seal('job.result', { jobId: msg.jobId, inputHash: msg.inputHash, outputHash: hashes[L]!, traceRoot: traceRoot(hashes), traceLayers: L });
    await node.conn.request({ type: 'job.result', envelope: envelope as never, output }).catch((e: Error) => log({ event: 'result.refused', jobId: msg.jobId, error: e.message }));
  };
  const node: Node = startNode({
    wsUrl: opts.wsUrl,
    keys: opts.keys,
    role: 'miner',
    models: [model],
    variant,
    region: 'local',
    stakeMicro: 500_000_000n,
    useFaucet: true,
    fundMicro: 5_000_000_000n,
    log,
    onMessage: (msg) => {
      opts.onMessage?.(msg);
      if (msg.type === 'job.offer' && msg.model === model) {
        void node.conn.request({ type: 'job.bid', envelope: node.conn.seal('job.bid', { jobId: msg.jobId, priceMicro: opts.priceMicro ?? '1000' }) as never }).catch(() => undefined);
      } else if (msg.type === 'job.assign') void run(msg);
      else if (msg.type === 'bisect.turn' && msg.party === 'miner') {
        const t = traces.get(msg.jobId);
        if (!t) return;
        const envelope = node.conn.seal('bisect.reveal', { jobId: msg.jobId, index: msg.index, boundaryHash: t.hashes[msg.index]!, proof: traceProof(t.hashes, msg.index) });
        void node.conn.request({ type: 'bisect.reveal', envelope: envelope as never, tensor: toWireTensor(t.tensors[msg.index] as never) }).catch((e: Error) => log({ event: 'bisect.error', jobId: msg.jobId, error: e.message }));
      }
    },
  });
  return node;
}

/** A seeded float32 input of `dims` in [0, 1) (the benchmark's jobs). */
export function seededTensorInput(dims: number[], next: () => number): JobInput {
  const n = dims.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = next();
  return { kind: 'tensor', tensor: { dtype: 'float32', dims, data: Buffer.from(a.buffer).toString('base64') } };
}
