import type { ValidatorStrategy } from '@infermarket/protocol';

/**
 * What a validator does with one task (an audit, or a dispute it referees). It never sees the miner's
 * output (the market shows it to nobody while the job is under audit), so these are all it can do:
 * - `reexecute`: run the claimed variant on the reference session and send that output;
 * - `cheap-claim`: send an output it did not compute (see the validator's `cheapClaim`), which matches
 *   the miner's only by chance — a mismatch that opens a dispute it loses;
 * - `silent`: send nothing; the audit window (or the dispute deadline) lapses without its report;
 * - `vouch`: send the output its partner miner handed it out of band, which the market finds equal to the
 *   miner's — a match on an audit, a vote for the miner in a dispute.
 */
export type TaskAction = 'reexecute' | 'cheap-claim' | 'silent' | 'vouch';

/**
 * Decide how a validator handles a task. Pure; the live validator and the simulator both call it:
 * - `honest` always re-executes;
 * - `lazy` always makes a cheap claim (audits and disputes alike);
 * - `colluding` stays silent on every task about a partner's job (audit or dispute): it never reports a
 *   partner. It cannot vouch for one either — to claim a match it would need the miner's output, which
 *   it cannot see — so a silent audit lapses and the job settles as if unaudited; it forgoes the fee.
 *   On other miners' jobs it re-executes honestly. When its partner hands it the job's output
 *   (`partnerShares`, the simulator's `sim.colludersVouch`; the live processes have no such channel) it
 *   vouches instead: it sends that output, so an audit matches and a dispute vote favours the partner.
 */
export function planTask(strategy: ValidatorStrategy, ctx: { purpose: 'audit' | 'dispute'; minerIsPartner: boolean; partnerShares?: boolean }): TaskAction {
  switch (strategy) {
    case 'honest':
      return 'reexecute';
    case 'lazy':
      return 'cheap-claim';
    case 'colluding':
      return ctx.minerIsPartner ? (ctx.partnerShares ? 'vouch' : 'silent') : 'reexecute';
  }
}
