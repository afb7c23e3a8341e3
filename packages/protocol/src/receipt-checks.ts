import type { Job, VerificationLevel, Verdict } from './types.js';

/** What a receipt says about the checks of its job. */
export interface ReceiptChecks {
  /** The level the client chose and paid for. */
  verification: VerificationLevel;
  /** What the checks found; only `verified` means someone other than the miner re-executed and agreed. */
  verdict: Verdict;
  /** Who checked: the auditor whose re-execution agreed, or the other miners of the agreeing redundant majority. Empty when nobody did. */
  checkedBy: string[];
  /** Validators asked to audit, in order (a silent one is followed by the next). */
  auditors: string[];
}

/** The verification facts of a finished job, for the market's signed receipt. */
export function receiptChecks(job: Job): ReceiptChecks {
  let checkedBy: string[] = [];
  if (job.verdict === 'verified') {
    if (job.verification === 'redundant') checkedBy = job.replicas.filter((r) => r.paid && r.miner !== job.miner).map((r) => r.miner);
    else if (job.validator && job.validatorOutputHash !== null) checkedBy = [job.validator];
    else if (job.dispute) checkedBy = [...job.dispute.votes.entries()].filter(([, ok]) => ok).map(([a]) => a);
  }
  // a verdict still "pending" at the end cannot happen (settling needs a decision); say "unchecked" rather than imply a check
  const verdict: Verdict = job.verdict === 'pending' ? 'unchecked' : job.verdict;
  return { verification: job.verification, verdict, checkedBy, auditors: [...job.auditors] };
}
