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
  if (move.amountMicro === 0n) return;
  const { ledger } = state;
  const from = (ledger.get(move.from) ?? 0n) - move.amountMicro;
  if (from === 0n && move.from !== 'mint') ledger.delete(move.from);
  else ledger.set(move.from, from);
  ledger.set(move.to, (ledger.get(move.to) ?? 0n) + move.amountMicro);
  out.push({ type: 'ledger.entry', entry: { ...move, atMs: state.nowMs } });
}

/** `amount * bps / 10_000`, rounded down (exact in bigint). */
export function bpsOf(amountMicro: bigint, bps: number): bigint {
  return (amountMicro * BigInt(bps)) / 10_000n;
}
