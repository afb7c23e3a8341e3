import type { Job, JobOutput } from '@infermarket/protocol';
import { outputsAgree } from './compare.js';
import type { MarketCore } from './core.js';
import type { MarketStore } from './store.js';

// Redundant jobs in the live market (docs/verification.md, "Redundant jobs"). Every replica runs the job
// blind: the market keeps each replica's output under its own payload kind and shows none of them to anyone
// (not to the other replicas, not to the client, not in the token stream) until a majority agrees. Agreement
// is computed here, by the market, from the outputs it holds, with the model's comparator: a replica's word
// about agreeing is never asked for, so it cannot be a lie.

/** Payload kind of one replica's output (`output` is the single-miner kind). */
export function replicaOutputKind(miner: string): string {
  return `output:${miner}`;
}

/** Payload kind of one replica's signed result envelope. */
export function replicaResultKind(miner: string): string {
  return `result:${miner}`;
}

/**
 * The output delivered for a job, straight from the file: for a redundant job the output of `miner` (the
 * first member of the agreeing majority, the job row's miner once decided), else the single miner's.
 */
export function storedOutput(store: MarketStore, jobId: string, miner: string | null): JobOutput | undefined {
  const own = miner ? (store.payload(jobId, replicaOutputKind(miner)) as JobOutput | undefined) : undefined;
  return own ?? (store.payload(jobId, 'output') as JobOutput | undefined);
}

/**
 * Which replicas that committed before `by` produced an output that agrees with `output` under the model's
 * comparator. Two replicas agree when the comparator of either one's claimed variant says so (each variant's
 * comparator is calibrated for its own numeric noise; an honest pair running different variants may still
 * differ, see docs/verification.md).
 */
export function replicaAgreement(core: MarketCore, job: Job, by: string, output: JobOutput, variantOf: (address: string) => string | null): string[] {
  const spec = core.specs.get(job.model);
  const agrees: string[] = [];
  for (const r of job.replicas) {
    if (r.miner === by || r.outputHash === null) continue;
    const other = core.payload(job.id, replicaOutputKind(r.miner)) as JobOutput | undefined;
    if (!other) continue;
    const va = variantOf(r.miner);
    const vb = variantOf(by);
    if (outputsAgree(spec, other, output, va) || (vb !== va && outputsAgree(spec, other, output, vb))) agrees.push(r.miner);
  }
  return agrees;
}

/**
 * Once a redundant job is decided (its `outputHash` set: the majority's first member is `job.miner`), the
 * job's signed result is that replica's: set the driver's extra so the client's view and receipt show it.
 */
export function watchRedundant(core: MarketCore): void {
  core.onEffects((fx) => {
    const seen = new Set<string>();
    for (const e of fx) {
      if (!('jobId' in e) || typeof e.jobId !== 'string' || seen.has(e.jobId)) continue;
      seen.add(e.jobId);
      const job = core.state.jobs.get(e.jobId);
      if (!job || job.verification !== 'redundant' || !job.outputHash || !job.miner) continue;
      const x = core.extra(job.id);
      if (x.result) continue;
      const env = core.payload(job.id, replicaResultKind(job.miner));
      if (env) x.result = JSON.stringify(env);
    }
  });
}
