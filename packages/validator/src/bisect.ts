import type { JobInput, JobOutput, ServerMessage, WireTensor } from '@infermarket/protocol';
import type { Executor, NodeConnection } from '@infermarket/node-runtime';

/** Bytes of audited jobs' boundary tensors a validator keeps to judge a bisection (oldest dropped first). */
export const VALIDATOR_TRACE_DEFAULTS = Object.freeze({ keptBytes: 64 * 1024 * 1024 });

/** A validator's part in bisection disputes (docs/verification.md "Disputes by bisection"): challenger and referee. */
export interface ValidatorBisection {
  /**
   * Re-execute an audited job on the reference session, keeping its layer boundaries when the model commits a
   * trace (it may become the challenger); otherwise the executor's ordinary reference run.
   */
  reexecute(req: { jobId: string; model: string; variant: string; input: JobInput; rows?: number[] }): Promise<{ output: JobOutput; ms: number }>;
  /** Challenger: judge the boundary the miner opened against this validator's own run, and answer. */
  onTurn(msg: Extract<ServerMessage, { type: 'bisect.turn' }>, conn: NodeConnection): Promise<void>;
  /** Referee: re-execute the one disputed segment from the miner's boundary and vote. */
  onSegment(msg: Extract<ServerMessage, { type: 'bisect.segment' }>, conn: NodeConnection, fallbackVariant: string): Promise<void>;
}

export function createValidatorBisection(opts: {
  executor: Executor;
  log: (e: Record<string, unknown>) => void;
  /** Does the market play bisection now (its announced `disputeMode`)? Otherwise no boundaries are kept. */
  enabled: () => boolean;
  keptBytes?: number;
}): ValidatorBisection {
  /** `rows`: the job's rows this run covers (a batch job audited on a sample of its rows, the audit task's `rows`). */
  const kept = new Map<string, { variant: string; boundaries: WireTensor[]; bytes: number; rows?: number[] }>();
  const max = opts.keptBytes ?? VALIDATOR_TRACE_DEFAULTS.keptBytes;
  let bytes = 0;
  const send = async (conn: NodeConnection, type: 'bisect.respond' | 'bisect.vote', body: Record<string, string | number | boolean>, jobId: string): Promise<void> => {
    try {
      await conn.request({ type, envelope: conn.seal(type, body) as never });
      opts.log({ event: type, ...body });
    } catch (e) {
      opts.log({ event: 'bisect.error', jobId, move: type, error: (e as Error).message });
    }
  };
  return {
    async reexecute(req) {
      const tracing = opts.executor.tracing;
      if (tracing && opts.enabled() && tracing.layers(req.model) !== null) {
        const r = await tracing.run({ model: req.model, variant: req.variant, input: req.input, reference: true });
        if (r) {
          const size = r.boundaries.reduce((a, t) => a + t.data.length, 0);
          bytes -= kept.get(req.jobId)?.bytes ?? 0;
          kept.delete(req.jobId);
          kept.set(req.jobId, { variant: req.variant, boundaries: r.boundaries, bytes: size, ...(req.rows ? { rows: req.rows } : {}) });
          bytes += size;
          while (bytes > max && kept.size > 1) {
            const oldest = kept.keys().next().value!;
            bytes -= kept.get(oldest)!.bytes;
            kept.delete(oldest);
          }
          return { output: r.output, ms: r.ms };
        }
      }
      return opts.executor.execute({ model: req.model, variant: req.variant, input: req.input, reference: true });
    },
    async onTurn(msg, conn) {
      if (msg.party !== 'challenger' || !msg.tensor) return;
      const own = kept.get(msg.jobId);
      const tracing = opts.executor.tracing;
      const mine = own?.boundaries[msg.index - 1];
      if (!own || !mine || !tracing) {
        // no run of ours to judge by (restarted since the audit): we cannot answer honestly, and lose by timeout
        opts.log({ event: 'bisect.error', jobId: msg.jobId, index: msg.index, error: 'no kept run of this job to judge the boundary by' });
        return;
      }
      try {
        tracing.checkTolerances(msg.model, msg.variant ?? own.variant);
      } catch (e) {
        // our own manifest lacks the layer tolerances: a misconfiguration, not a verdict on the miner — say so, do not answer
        opts.log({ event: 'bisect.error', jobId: msg.jobId, index: msg.index, error: (e as Error).message });
        return;
      }
      let agree: boolean;
      try {
        // a batch job audited on a sample of its rows: our run covers those rows only, so judge the miner's boundary on them
        const theirs = own.rows ? sliceWireRows(msg.tensor, own.rows) : msg.tensor;
        agree = theirs !== null && tracing.agree({ model: msg.model, variant: msg.variant ?? own.variant, index: msg.index, a: mine, b: theirs });
      } catch (e) {
        // a tensor that is not even a tensor of ours (a dtype the runtime does not take): not what we computed
        opts.log({ event: 'bisect.error', jobId: msg.jobId, index: msg.index, error: (e as Error).message });
        agree = false;
      }
      await send(conn, 'bisect.respond', { jobId: msg.jobId, index: msg.index, agree }, msg.jobId);
    },
    async onSegment(msg, conn, fallbackVariant) {
      const tracing = opts.executor.tracing;
      if (!tracing) {
        opts.log({ event: 'bisect.error', jobId: msg.jobId, error: 'this executor cannot re-execute a segment' });
        return;
      }
      const variant = msg.variant ?? fallbackVariant;
      try {
        tracing.checkTolerances(msg.model, variant);
      } catch (e) {
        // our own manifest lacks the layer tolerances: a misconfiguration, not a vote against the miner — say so, abstain
        opts.log({ event: 'bisect.segment.error', jobId: msg.jobId, error: (e as Error).message });
        return;
      }
      let minerCorrect: boolean;
      let ms = 0;
      try {
        const r = await tracing.segment({ model: msg.model, variant, fromIndex: msg.fromIndex, toIndex: msg.toIndex, input: msg.from });
        ms = r.ms;
        minerCorrect = tracing.agree({ model: msg.model, variant, index: msg.toIndex, a: r.tensor, b: msg.claimed });
      } catch (e) {
        // the miner's own boundary does not run (wrong shape or dtype): an honest miner never commits such a tensor
        opts.log({ event: 'bisect.segment.error', jobId: msg.jobId, error: (e as Error).message });
        minerCorrect = false;
      }
      opts.log({ event: 'bisect.segment', jobId: msg.jobId, fromIndex: msg.fromIndex, toIndex: msg.toIndex, minerCorrect, ms: Math.round(ms * 1000) / 1000 });
      await send(conn, 'bisect.vote', { jobId: msg.jobId, fromIndex: msg.fromIndex, toIndex: msg.toIndex, minerCorrect }, msg.jobId);
    },
  };
}

/**
 * Rows `rows` (indices into the first dim) of a wire tensor, in that order; null when an index is out of range or the
 * bytes do not split into whole rows (not a boundary of this job).
 */
export function sliceWireRows(t: WireTensor, rows: readonly number[]): WireTensor | null {
  const n = t.dims[0];
  const bytes = Buffer.from(t.data, 'base64');
  if (typeof n !== 'number' || n <= 0 || bytes.length % n !== 0) return null;
  const rowBytes = bytes.length / n;
  const out = Buffer.alloc(rows.length * rowBytes);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= n) return null;
    bytes.copy(out, i * rowBytes, r * rowBytes, (r + 1) * rowBytes);
  }
  return { ...t, dims: [rows.length, ...t.dims.slice(1)], data: out.toString('base64') };
}
