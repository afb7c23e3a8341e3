import { balanceOf, jobToken, ledgerTotals, priceUnit, TOKENS, type Token } from '@infermarket/protocol';
import type { MarketCore } from './core.js';

/** What `GET /v1/oracle` says: the pricing mode, the tokens jobs and stakes use, and the IMT price the rules convert at. */
export interface OracleView {
  pricingMode: string;
  /** The token jobs escrow and pay in. */
  jobToken: Token;
  /** The unit of max prices and offer prices. */
  priceUnit: Token;
  stakeToken: Token;
  /** Micro-USD per IMT, as a decimal string; null until the first `oracle.price` (and always in a market without an oracle). */
  priceMicro: string | null;
  atMs: number | null;
  updates: number;
  /** `token`-mode payments capped at the escrow (the price fell more than `tokenEscrowMarginBps`). */
  shortfalls: number;
  /** Per token: minted, and whether minted = held (the conservation invariant) right now. */
  ledger: Record<Token, { mintedMicro: string; conserved: boolean }>;
}

/** The oracle and per-token ledger totals of a market (`GET /v1/oracle`). */
export function oracleView(core: MarketCore): OracleView {
  const s = core.state;
  const o = s.oracle ?? null;
  const ledger = {} as OracleView['ledger'];
  for (const t of TOKENS) {
    const lt = ledgerTotals(s, t);
    ledger[t] = { mintedMicro: lt.mintedMicro.toString(), conserved: lt.conserved };
  }
  return {
    pricingMode: s.params.pricingMode,
    jobToken: jobToken(s.params),
    priceUnit: priceUnit(s.params),
    stakeToken: s.params.stakeToken,
    priceMicro: o ? o.priceMicro.toString() : null,
    atMs: o ? o.atMs : null,
    updates: o?.updates ?? 0,
    shortfalls: o?.shortfalls ?? 0,
    ledger,
  };
}

/** An address's balance, stake, unbonding and faucet total in each token (`GET /v1/accounts/:address`, `tokens`). */
export function accountTokens(core: MarketCore, address: string): Record<Token, { balanceMicro: string; stakeMicro: string; unbondingMicro: string; faucetMintedMicro: string }> {
  const s = core.state;
  const out = {} as ReturnType<typeof accountTokens>;
  for (const t of TOKENS) {
    out[t] = {
      balanceMicro: balanceOf(s, `balance:${address}`, t).toString(),
      stakeMicro: balanceOf(s, `stake:${address}`, t).toString(),
      unbondingMicro: balanceOf(s, `unbonding:${address}`, t).toString(),
      faucetMintedMicro: (s.faucetMinted.get(t === 'mUSD' ? address : `${t}|${address}`) ?? 0n).toString(),
    };
  }
  return out;
}
