import { InfermarketError, type Envelope, type Job, type JobOutput, type SealedBox } from '@infermarket/protocol';
import type { MarketCore } from './core.js';

/** A party of a private job that needs the job key from the client. */
export interface KeyRequest {
  jobId: string;
  party: string;
  purpose: 'miner' | 'audit' | 'dispute';
}

/** A validator's commitment before the reveal: the hash of its plaintext output and the output sealed to the job key. */
export interface AuditCommit {
  outputHash: string;
  output: JobOutput;
}

/**
 * The market's side of private jobs (docs/privacy.md): job keys the client sealed to each party (ciphertext,
 * kept in memory only: after a restart the client's stream asks again), validators' commitments awaiting
 * their verdict, and the nodes' signed registrations (public, kept in the file).
 */
export interface PrivateJobs {
  /** Signed `node.register` envelope of a node (what binds its encryption key to its address). */
  registration(address: string): Envelope | null;
  setRegistration(address: string, env: Envelope): void;
  key(jobId: string, party: string): SealedBox | undefined;
  /** Parties of a private job that still need its key from the client. */
  pending(job: Job): KeyRequest[];
  /**
   * Keep a job key for a party, after checking that the party needs it now and that the box is sealed to the
   * encryption key the party signed. @throws InfermarketError `ERR_NOT_ELIGIBLE`, `ERR_KEY_MISMATCH`.
   */
  putKey(job: Job, party: string, box: SealedBox): void;
  onKey(fn: (jobId: string, party: string) => void): void;
  commit(jobId: string, by: string): AuditCommit | undefined;
  setCommit(jobId: string, by: string, c: AuditCommit): void;
  /** Forget a finished job's keys and commitments. */
  forget(jobId: string): void;
}

/** Create the private-job book of a market. */
export function createPrivateJobs(core: MarketCore): PrivateJobs {
  const keys = new Map<string, Map<string, SealedBox>>();
  const commits = new Map<string, Map<string, AuditCommit>>();
  const regs = new Map<string, Envelope | null>();
  const listeners: ((jobId: string, party: string) => void)[] = [];

  const registration = (address: string): Envelope | null => {
    let r = regs.get(address);
    if (r === undefined) {
      const raw = core.store.getMeta(`registration:${address}`);
      r = raw ? (JSON.parse(raw) as Envelope) : null;
      regs.set(address, r);
    }
    return r;
  };
  const key = (jobId: string, party: string): SealedBox | undefined => keys.get(jobId)?.get(party);
  const pending = (job: Job): KeyRequest[] => {
    if (!job.private) return [];
    const out: KeyRequest[] = [];
    if (job.status === 'assigned' && job.miner && !key(job.id, job.miner)) out.push({ jobId: job.id, party: job.miner, purpose: 'miner' });
    if (job.status === 'auditing' && job.validator && !key(job.id, job.validator)) out.push({ jobId: job.id, party: job.validator, purpose: 'audit' });
    if (job.status === 'disputed' && job.dispute) {
      for (const r of job.dispute.referees) if (!job.dispute.votes.has(r) && !key(job.id, r)) out.push({ jobId: job.id, party: r, purpose: 'dispute' });
    }
    return out;
  };

  return {
    registration,
    setRegistration(address, env) {
      regs.set(address, env);
      core.store.setMeta(`registration:${address}`, JSON.stringify(env));
    },
    key,
    pending,
    putKey(job, party, box) {
      if (!job.private) throw new InfermarketError('ERR_VALIDATION', `job ${job.id} is not private: it takes no job key`, { details: { field: 'jobId' } });
      const wanted = pending(job).some((r) => r.party === party);
      if (!wanted) throw new InfermarketError('ERR_NOT_ELIGIBLE', `"to": ${party} does not need the key of job ${job.id} now (it is ${job.status})`, { details: { field: 'to' } });
      const enc = core.state.nodes.get(party)?.encryptionKey ?? null;
      if (!enc || box.to !== enc) {
        throw new InfermarketError('ERR_KEY_MISMATCH', `"sealed.to" must be the encryption key ${party} signed (${enc ?? 'none'}), got ${String(box.to).slice(0, 64)}`, { details: { field: 'sealed.to' } });
      }
      let m = keys.get(job.id);
      if (!m) keys.set(job.id, (m = new Map()));
      m.set(party, box);
      for (const fn of listeners) fn(job.id, party);
    },
    onKey(fn) {
      listeners.push(fn);
    },
    commit: (jobId, by) => commits.get(jobId)?.get(by),
    setCommit(jobId, by, c) {
      let m = commits.get(jobId);
      if (!m) commits.set(jobId, (m = new Map()));
      m.set(by, c);
    },
    forget(jobId) {
      keys.delete(jobId);
      commits.delete(jobId);
    },
  };
}
