import type { AccountName, Effect, EntryReason, MarketState } from './types.js';

/** Balance of a ledger account (0 when it has never been used). */
export function balanceOf(state: MarketState, account: AccountName): bigint {
  return state.ledger.get(account) ?? 0n;
}

/**
 * Move `amountMicro` from one account to another as one journal entry, and emit it.
 * Callers check balances first: the rules validate before they mutate, so a rejected event changes nothing.
 * Only `mint` may go negative (it holds minus everything ever minted).
 */
export function transfer(
  state: MarketState,
  out: Effect[],
  move: { from: AccountName; to: AccountName; amountMicro: bigint; reason: EntryReason; ref: string },
): void {
  const amount = move.amountMicro;
  if (amount === 0n) return;
  const { ledger } = state;
  const from = (ledger.get(move.from) ?? 0n) - amount;
  // empty accounts are dropped so per-job escrow accounts do not pile up
  if (from === 0n && move.from !== 'mint') ledger.delete(move.from);
  else ledger.set(move.from, from);
  ledger.set(move.to, (ledger.get(move.to) ?? 0n) + amount);
  out.push({ type: 'ledger.entry', entry: { from: move.from, to: move.to, amountMicro: amount, reason: move.reason, ref: move.ref, atMs: state.nowMs } });
}

/** `amount * bps / 10_000`, rounded down (exact in bigint). */
export function bpsOf(amountMicro: bigint, bps: number): bigint {
  return (amountMicro * BigInt(bps)) / 10_000n;
}
