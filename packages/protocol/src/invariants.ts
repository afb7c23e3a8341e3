import { balanceOf } from './ledger.js';
import { splitLedgerKey, TOKENS, type Token } from './token.js';
import type { MarketState } from './types.js';

/** Sums of the ledger by kind of account, in micro units of one token (micro-mUSD by default). */
export interface LedgerTotals {
  mintedMicro: bigint;
  balancesMicro: bigint;
  escrowMicro: bigint;
  stakesMicro: bigint;
  unbondingMicro: bigint;
  feesMicro: bigint;
  burnedMicro: bigint;
  /** minted = balances + escrow + stakes + unbonding + fees + burned */
  conserved: boolean;
}

/** Totals of the ledger in one token (default mUSD) and whether that token is conserved. */
export function ledgerTotals(state: MarketState, token: Token = 'mUSD'): LedgerTotals {
  const t = { mintedMicro: 0n, balancesMicro: 0n, escrowMicro: 0n, stakesMicro: 0n, unbondingMicro: 0n, feesMicro: 0n, burnedMicro: 0n };
  for (const [key, v] of state.ledger) {
    const { token: tk, account: name } = splitLedgerKey(key);
    if (tk !== token) continue;
    if (name === 'mint') t.mintedMicro = -v;
    else if (name === 'burn') t.burnedMicro += v;
    else if (name === 'fees') t.feesMicro += v;
    else if (name.startsWith('balance:')) t.balancesMicro += v;
    else if (name.startsWith('escrow:')) t.escrowMicro += v;
    else if (name.startsWith('stake:')) t.stakesMicro += v;
    else if (name.startsWith('unbonding:')) t.unbondingMicro += v;
  }
  const held = t.balancesMicro + t.escrowMicro + t.stakesMicro + t.unbondingMicro + t.feesMicro + t.burnedMicro;
  return { ...t, conserved: held === t.mintedMicro };
}

/**
 * Every invariant of the rules; returns the violations (empty when all hold):
 * conservation, no negative account, escrow equals the open jobs' locked amounts (finished jobs hold none),
 * node records agree with their ledger accounts, no job paid more than once.
 */
export function checkInvariants(state: MarketState): string[] {
  const v: string[] = [];
  // each token is its own double-entry ledger, conserved on its own
  for (const token of TOKENS) {
    const totals = ledgerTotals(state, token);
    if (!totals.conserved) {
      const held = totals.balancesMicro + totals.escrowMicro + totals.stakesMicro + totals.unbondingMicro + totals.feesMicro + totals.burnedMicro;
      v.push(`conservation (${token}): minted ${totals.mintedMicro} ≠ held ${held}`);
    }
  }
  const jobToken = state.params.pricingMode === 'stable' ? 'mUSD' : 'IMT';
  const stakeToken = state.params.stakeToken;
  for (const [key, amount] of state.ledger) {
    const { token, account: name } = splitLedgerKey(key);
    if (name !== 'mint' && amount < 0n) v.push(`negative account ${key}: ${amount}`);
    if (name.startsWith('escrow:') && token !== jobToken) v.push(`escrow ${key} is in ${token}, jobs are in ${jobToken}`);
    if ((name.startsWith('stake:') || name.startsWith('unbonding:')) && token !== stakeToken) v.push(`stake account ${key} is in ${token}, stakes are in ${stakeToken}`);
    if (name.startsWith('escrow:')) {
      const job = state.jobs.get(name.slice(7));
      if (!job) v.push(`escrow ${name} has no job`);
      else if (job.status === 'settled' || job.status === 'failed') v.push(`finished job ${job.id} still holds escrow ${amount}`);
    }
  }
  for (const job of state.jobs.values()) {
    const held = balanceOf(state, `escrow:${job.id}`);
    const open = job.status !== 'settled' && job.status !== 'failed';
    const escrowed = job.escrowMicro ?? job.maxPriceMicro;
    if (open && held !== escrowed) v.push(`open job ${job.id} escrows ${held}, expected ${escrowed} (its max price in the job token)`);
    if (job.payouts > 1) v.push(`job ${job.id} paid ${job.payouts} times`);
    if (job.status === 'settled' && job.payouts !== 1) v.push(`settled job ${job.id} has ${job.payouts} payouts`);
    if (job.status === 'failed' && job.payouts !== 0) v.push(`failed job ${job.id} paid its miner`);
    // a receipt must never imply a check that did not happen
    if (job.status === 'settled' && job.verification === 'always' && job.verdict !== 'verified') v.push(`job ${job.id} ("always") settled with verdict ${job.verdict}`);
    // "none" is never drawn for an audit (a challenge in its window can still catch it)
    if (job.verification === 'none' && (job.audited || job.auditors.length > 0)) v.push(`job ${job.id} ("none") was audited`);
    if (job.status === 'settled' && job.verdict === 'verified') {
      const checked =
        (job.validator !== null && job.validatorOutputHash !== null) ||
        (job.dispute !== null && [...job.dispute.votes.values()].some((x) => x)) ||
        (job.verification === 'redundant' && job.replicas.filter((r) => r.paid).length > job.replicas.length / 2);
      if (!checked) v.push(`job ${job.id} settled as verified without an agreeing re-execution`);
    }
    if (job.status === 'settled' && job.verification === 'redundant' && job.replicas.filter((r) => r.paid).length * 2 <= job.replicas.length) {
      v.push(`redundant job ${job.id} settled without a majority`);
    }
  }
  for (const node of state.nodes.values()) {
    const stake = balanceOf(state, `stake:${node.address}`);
    if (stake !== node.stakeMicro) v.push(`node ${node.address} stake record ${node.stakeMicro} ≠ ledger ${stake}`);
    let unb = 0n;
    for (const c of node.unbonding) unb += c.amountMicro;
    const ledgerUnb = balanceOf(state, `unbonding:${node.address}`);
    if (unb !== ledgerUnb) v.push(`node ${node.address} unbonding record ${unb} ≠ ledger ${ledgerUnb}`);
  }
  return v;
}
