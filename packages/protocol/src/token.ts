import { InfermarketError } from './errors.js';
import type { Params } from './params.js';
import type { AccountName, EntryReason, MarketState } from './types.js';

/**
 * The two tokens of the ledger: `mUSD`, the mock stablecoin (1 mUSD = 1 USD by construction), and `IMT`, the
 * market's reward token whose USD price is set only by the market's own oracle (`oracle.price`).
 * Amounts of both are exact bigints in millionths (`Micro`). Each token is a separate double-entry ledger:
 * a journal entry never moves value between tokens, so each is conserved on its own.
 */
export const TOKENS = ['mUSD', 'IMT'] as const;
export type Token = (typeof TOKENS)[number];

/**
 * How jobs are priced and paid (`pricingMode`):
 * - `stable`: priced and paid in mUSD (the default; the token plays no part in jobs);
 * - `token`: priced in mUSD (max price, bids), paid in IMT at the oracle price when the job settles; the client
 *   escrows its max price converted at the submit price plus `tokenEscrowMarginBps`;
 * - `token-native`: priced and paid in IMT (max price and bids are IMT amounts).
 */
export const PRICING_MODES = ['stable', 'token', 'token-native'] as const;
export type PricingMode = (typeof PRICING_MODES)[number];

/** One whole token in micro units. */
export const ONE_TOKEN_MICRO = 1_000_000n;

/** Ledger key prefix of IMT accounts (mUSD accounts keep their plain names). */
const IMT_PREFIX = 'IMT|';

/** The token jobs escrow and pay in. */
export function jobToken(params: Pick<Params, 'pricingMode'>): Token {
  return params.pricingMode === 'stable' ? 'mUSD' : 'IMT';
}

/** The token stakes are bonded, slashed and penalised in (`stakeToken`). */
export function stakeToken(params: Pick<Params, 'stakeToken'>): Token {
  return params.stakeToken;
}

/** The unit job prices (max price, bids) are expressed in: IMT only in `token-native`. */
export function priceUnit(params: Pick<Params, 'pricingMode'>): Token {
  return params.pricingMode === 'token-native' ? 'IMT' : 'mUSD';
}

const JOB_REASONS: ReadonlySet<EntryReason> = new Set(['escrow', 'pay-miner', 'protocol-fee', 'validator-fee', 'refund']);

/**
 * The token a movement is in, from its reason: job money (escrow, payments, fees, refunds) in the job token,
 * stake money (bond, unbond, withdraw, slashes, penalties) in the stake token, a faucet mint in the token it names.
 */
export function tokenOfMove(params: Pick<Params, 'pricingMode' | 'stakeToken'>, reason: EntryReason, faucetToken: Token = 'mUSD'): Token {
  if (reason === 'faucet') return faucetToken;
  return JOB_REASONS.has(reason) ? jobToken(params) : stakeToken(params);
}

/** The token an account holds when its name alone decides it (escrow: the job token; stake, unbonding: the stake token); else mUSD. */
export function defaultTokenOf(params: Pick<Params, 'pricingMode' | 'stakeToken'>, account: AccountName): Token {
  if (account.startsWith('escrow:')) return jobToken(params);
  if (account.startsWith('stake:') || account.startsWith('unbonding:')) return stakeToken(params);
  return 'mUSD';
}

/** The ledger map key of `account` in `token`. */
export function ledgerKey(account: AccountName, token: Token): AccountName {
  return token === 'mUSD' ? account : (`${IMT_PREFIX}${account}` as AccountName);
}

/** Split a ledger map key into its token and plain account name. */
export function splitLedgerKey(key: AccountName): { token: Token; account: AccountName } {
  return key.startsWith(IMT_PREFIX) ? { token: 'IMT', account: key.slice(IMT_PREFIX.length) as AccountName } : { token: 'mUSD', account: key };
}

/** A token name from input. @throws ERR_VALIDATION naming the field. */
export function checkToken(field: string, v: unknown): Token {
  if (v === undefined) return 'mUSD';
  if (typeof v !== 'string' || !(TOKENS as readonly string[]).includes(v)) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be one of ${TOKENS.join(', ')}, got ${JSON.stringify(v)}`, { details: { field } });
  }
  return v as Token;
}

/** micro-mUSD → micro-IMT at `priceMicro` (micro-USD per IMT), rounded down (payments) or up (escrow). */
export function usdToImtMicro(usdMicro: bigint, priceMicro: bigint, round: 'down' | 'up' = 'down'): bigint {
  if (priceMicro <= 0n) throw new InfermarketError('ERR_INTERNAL', `oracle price must be positive, got ${priceMicro}`);
  const num = usdMicro * ONE_TOKEN_MICRO;
  return round === 'down' ? num / priceMicro : (num + priceMicro - 1n) / priceMicro;
}

/** micro-IMT → micro-USD at `priceMicro`, rounded down. */
export function imtToUsdMicro(imtMicro: bigint, priceMicro: bigint): bigint {
  return (imtMicro * priceMicro) / ONE_TOKEN_MICRO;
}

/** The oracle price now. @throws ERR_WRONG_STATE when the market's oracle has not published one yet. */
export function oraclePriceMicro(state: MarketState): bigint {
  const o = state.oracle;
  if (!o) throw new InfermarketError('ERR_WRONG_STATE', `pricingMode "${state.params.pricingMode}" needs an IMT price and the market's oracle has not published one yet`);
  return o.priceMicro;
}

/**
 * What a submission escrows, in the job token, for a max price in the price unit: the max price itself
 * (`stable`, `token-native`), or in `token` mode the max price converted at the oracle price now, rounded up,
 * plus `tokenEscrowMarginBps` (so a price fall before settlement is still covered).
 */
export function escrowForMaxPrice(state: MarketState, maxPriceMicro: bigint): bigint {
  if (state.params.pricingMode !== 'token') return maxPriceMicro;
  const withMargin = maxPriceMicro + (maxPriceMicro * BigInt(state.params.tokenEscrowMarginBps)) / 10_000n;
  return usdToImtMicro(withMargin, oraclePriceMicro(state), 'up');
}

/**
 * One payment out of a job's escrow, in the job token, for an amount in the price unit. `token` mode: converted
 * at the oracle price now (the settlement price), rounded down, and capped at what the escrow still holds (the
 * miner is paid first, then the fees; a cap is counted in `oracle.shortfalls`). Other modes: the amount itself.
 */
export function escrowPayment(state: MarketState, escrowHeldMicro: bigint, amountMicro: bigint): bigint {
  if (state.params.pricingMode !== 'token') return amountMicro;
  const want = usdToImtMicro(amountMicro, oraclePriceMicro(state));
  if (want <= escrowHeldMicro) return want;
  state.oracle!.shortfalls++;
  return escrowHeldMicro;
}
