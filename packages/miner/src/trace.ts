import { hashPayload, traceProof, traceRoot, type JobInput, type JobOutput, type ServerMessage, type WireTensor } from '@infermarket/protocol';
import type { Executor, NodeConnection } from '@infermarket/node-runtime';

/** Jobs whose trace a miner keeps for a dispute (oldest dropped first): a dispute opens within the challenge and audit windows. */
export const MINER_TRACE_DEFAULTS = Object.freeze({ keptJobs: 1_024 });

interface Kept {
  hashes: string[];
  /** Boundary tensors 1..L-1 (index k at k-1). */
  boundaries: WireTensor[];
}

/** A miner's committed layer traces (bisection disputes, docs/verification.md). */
export interface MinerTraces {
  /**
   * Run a job, keeping its layer trace when the model commits one (tensor inputs of single-input models, public
   * jobs): otherwise the executor's ordinary run.
   */
  execute(req: { jobId: string; model: string; variant: string; input: JobInput; inputHash: string; traced: boolean; onToken?: Parameters<Executor['execute']>[0]['onToken'] }): Promise<{ output: JobOutput; ms: number }>;
  /** The fields the signed result carries for a traced job (`traceRoot`, `traceLayers`), else none. */
  commitment(jobId: string): { traceRoot?: string; traceLayers?: number };
  /** The market asks for boundary `index` of a job's trace: open it with its Merkle proof and the tensor. */
  onTurn(msg: Extract<ServerMessage, { type: 'bisect.turn' }>, conn: NodeConnection): Promise<void>;
  forget(jobId: string): void;
}

/** @example const traces = createMinerTraces({ executor, log }); */
export function createMinerTraces(opts: { executor: Executor; log: (e: Record<string, unknown>) => void; keptJobs?: number }): MinerTraces {
  const kept = new Map<string, Kept>();
  const max = opts.keptJobs ?? MINER_TRACE_DEFAULTS.keptJobs;
  return {
    async execute(req) {
      const tracing = opts.executor.tracing;
      if (req.traced && tracing && tracing.layers(req.model) !== null) {
        const r = await tracing.run({ model: req.model, variant: req.variant, input: req.input });
        if (r) {
          kept.set(req.jobId, { hashes: [req.inputHash, ...r.boundaryHashes, hashPayload(r.output)], boundaries: r.boundaries });
          while (kept.size > max) kept.delete(kept.keys().next().value!);
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
      kept.delete(jobId);
    },
  };
}
