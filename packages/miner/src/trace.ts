import { hashPayload, traceProof, traceRoot, type JobInput, type JobOutput, type ServerMessage, type WireTensor } from '@infermarket/protocol';
import type { Executor, NodeConnection } from '@infermarket/node-runtime';

/**
 * How much of its traces a miner keeps for disputes (oldest dropped first; a job's is dropped once it settles or
 * is lost): a dispute opens within the challenge and audit windows, so only recent jobs need theirs.
 */
export const MINER_TRACE_DEFAULTS = Object.freeze({ keptBytes: 64 * 1024 * 1024 });

interface Kept {
  hashes: string[];
  /** Boundary tensors 1..L-1 (index k at k-1). */
  boundaries: WireTensor[];
}

/** A miner's committed layer traces (bisection disputes, docs/verification.md). */
export interface MinerTraces {
  /**
   * Run a job, keeping its layer trace when `traced` (the market plays bisection, a public job) and the model
   * commits one (tensor inputs of single-input models): otherwise the executor's ordinary run.
   */
  execute(req: { jobId: string; model: string; variant: string; input: JobInput; inputHash: string; traced: boolean; onToken?: Parameters<Executor['execute']>[0]['onToken'] }): Promise<{ output: JobOutput; ms: number }>;
  /** The fields the signed result carries for a traced job (`traceRoot`, `traceLayers`), else none. */
  commitment(jobId: string): { traceRoot?: string; traceLayers?: number };
  /** The market asks for boundary `index` of a job's trace: open it with its Merkle proof and the tensor. */
  onTurn(msg: Extract<ServerMessage, { type: 'bisect.turn' }>, conn: NodeConnection): Promise<void>;
  forget(jobId: string): void;
}

/** @example const traces = createMinerTraces({ executor, log }); */
export function createMinerTraces(opts: { executor: Executor; log: (e: Record<string, unknown>) => void; keptBytes?: number }): MinerTraces {
  const kept = new Map<string, Kept & { bytes: number }>();
  const max = opts.keptBytes ?? MINER_TRACE_DEFAULTS.keptBytes;
  let bytes = 0;
  const drop = (jobId: string): void => {
    const k = kept.get(jobId);
    if (!k) return;
    bytes -= k.bytes;
    kept.delete(jobId);
  };
  return {
    async execute(req) {
      const tracing = opts.executor.tracing;
      if (req.traced && tracing && tracing.layers(req.model) !== null) {
        const r = await tracing.run({ model: req.model, variant: req.variant, input: req.input });
        if (r) {
          const size = r.boundaries.reduce((a, t) => a + t.data.length, 0);
          drop(req.jobId);
          kept.set(req.jobId, { hashes: [req.inputHash, ...r.boundaryHashes, hashPayload(r.output)], boundaries: r.boundaries, bytes: size });
          bytes += size;
          while (bytes > max && kept.size > 1) drop(kept.keys().next().value!);
          return { output: r.output, ms: r.ms };
        }
      }
      return opts.executor.execute({ model: req.model, variant: req.variant, input: req.input, ...(req.onToken ? { onToken: req.onToken } : {}) });
    },
    commitment(jobId) {
      const k = kept.get(jobId);
      return k ? { traceRoot: traceRoot(k.hashes), traceLayers: k.hashes.length - 1 } : {};
    },
    async onTurn(msg, conn) {
      if (msg.party !== 'miner') return;
      const k = kept.get(msg.jobId);
      if (!k || msg.index < 1 || msg.index >= k.hashes.length - 1) {
        opts.log({ event: 'bisect.error', jobId: msg.jobId, index: msg.index, error: k ? 'the asked boundary is not a hidden one' : 'no trace kept for this job' });
        return;
      }
      const envelope = conn.seal('bisect.reveal', { jobId: msg.jobId, index: msg.index, boundaryHash: k.hashes[msg.index]!, proof: traceProof(k.hashes, msg.index) });
      try {
        await conn.request({ type: 'bisect.reveal', envelope: envelope as never, tensor: k.boundaries[msg.index - 1]! });
        opts.log({ event: 'bisect.reveal', jobId: msg.jobId, index: msg.index });
      } catch (e) {
        opts.log({ event: 'bisect.error', jobId: msg.jobId, index: msg.index, error: (e as Error).message });
      }
    },
    forget(jobId) {
      drop(jobId);
    },
  };
}
