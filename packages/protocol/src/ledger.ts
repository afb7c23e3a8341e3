import { defaultTokenOf, ledgerKey, tokenOfMove, type Token } from './token.js';
import type { AccountName, Effect, EntryReason, MarketState } from './types.js';

/**
 * Balance of a ledger account in a token (0 when it has never been used). Without `token`: escrow in the job
 * token, stake and unbonding in the stake token, anything else in mUSD.
 */
export function balanceOf(state: MarketState, account: AccountName, token?: Token): bigint {
  return state.ledger.get(ledgerKey(account, token ?? defaultTokenOf(state.params, account))) ?? 0n;
}

/**
 * Move `amountMicro` from one account to another as one journal entry, and emit it.
 * Callers check balances first: the rules validate before they mutate, so a rejected event changes nothing.
 * Only `mint` may go negative (it holds minus everything ever minted).
 */
export function transfer(
  state: MarketState,
  out: Effect[],
  move: { from: AccountName; to: AccountName; amountMicro: bigint; reason: EntryReason; ref: string; /** faucet only */ token?: Token },
): void {
  const amount = move.amountMicro;
  if (amount === 0n) return;
  const { ledger } = state;
  // both sides in one token, chosen by the reason (job money: the job token; stake money: the stake token)
  const token = tokenOfMove(state.params, move.reason, move.token);
  const fromKey = ledgerKey(move.from, token);
  const toKey = ledgerKey(move.to, token);
  const from = (ledger.get(fromKey) ?? 0n) - amount;
  // empty accounts are dropped so per-job escrow accounts do not pile up
  if (from === 0n && move.from !== 'mint') ledger.delete(fromKey);
  else ledger.set(fromKey, from);
  ledger.set(toKey, (ledger.get(toKey) ?? 0n) + amount);
  const entry = { from: move.from, to: move.to, amountMicro: amount, reason: move.reason, ref: move.ref, atMs: state.nowMs };
  out.push({ type: 'ledger.entry', entry: token === 'mUSD' ? entry : { ...entry, token } });
}

/** `amount * bps / 10_000`, rounded down (exact in bigint). */
export function bpsOf(amountMicro: bigint, bps: number): bigint {
  return (amountMicro * BigInt(bps)) / 10_000n;
}
