import { InfermarketError, type JobFailure } from '@infermarket/protocol';

/**
 * Plain-language reasons for the client tools (`submit`, `probe`, `load`): why a job did not settle, and how
 * to get funds when the market refuses a job for want of them.
 */

/** The job failure reasons the protocol reports (`JobView.failure`). */
export const KNOWN_FAILURES: ReadonlySet<string> = new Set<JobFailure>(['no-bids', 'attempts-exhausted', 'miner-slashed']);

/** What a job failure means and what to try. */
export function explainFailure(failure: JobFailure | string | null | undefined): string {
  switch (failure) {
    case 'no-bids':
      return 'no eligible miner bid within the bid window (is a miner serving this model online, staked, in an allowed region, and bidding at or below --max-price?)';
    case 'attempts-exhausted':
      return 'every miner it was assigned to missed its deadline (maxAttempts reached); the escrow was refunded';
    case 'miner-slashed':
      return 'the miner\'s output failed an audit or dispute and the miner was slashed; the escrow was refunded';
    default:
      return failure ? String(failure) : 'it did not finish in time (see --timeout-ms)';
  }
}

/** How a client account gets test funds: the faucet flag of each tool. */
export function fundingHint(address: string, flag = '--faucet <micro>'): string {
  return `fund ${address} first: pass ${flag} (e.g. --faucet 1000000 asks the market's testnet faucet for 1 mUSD) or transfer funds to it`;
}

/**
 * Re-throw `ERR_INSUFFICIENT_BALANCE` with the funding hint added; other errors pass through unchanged.
 * @throws InfermarketError always.
 */
export function withFundingHint(err: unknown, address: string, flag?: string): never {
  if (err instanceof InfermarketError && err.code === 'ERR_INSUFFICIENT_BALANCE') {
    throw new InfermarketError('ERR_INSUFFICIENT_BALANCE', `${err.message}; ${fundingHint(address, flag)}`, { cause: err });
  }
  throw err;
}

/** Count of jobs by reason, for a one-line summary on stderr. */
export function tally(reasons: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n}× ${r}`).join(', ');
}
