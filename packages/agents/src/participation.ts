import { InfermarketError, type PricingMode } from '@infermarket/protocol';

/**
 * Whether a miner with costs in dollars keeps serving: the one rule for every miner with USD costs (the
 * simulator's miners and the live miner process run it). A miner leaves (stops bidding; its stake stays
 * bonded) when its expected USD profit per job has been negative at `checksToLeave` checks in a row, and
 * returns when it has been positive at `checksToReturn` checks in a row. The bounds: a miner changes state at
 * most once per `minDwellMs`, and decides only at checks `checkEveryMs` apart, so churn cannot oscillate
 * faster than that.
 */
export interface ParticipationSettings {
  /** Time between two checks of a miner's expected profit. */
  checkEveryMs: number;
  /** Consecutive negative checks before a miner leaves. */
  checksToLeave: number;
  /** Consecutive positive checks before an absent miner returns. */
  checksToReturn: number;
  /** Least time between two changes of one miner's state. */
  minDwellMs: number;
  /** How long a miner holds the IMT it is paid before selling it (its cash-out horizon). */
  holdMs: number;
  /** Half-life of the price trend a miner extrapolates over `holdMs`. */
  trendHalfLifeMs: number;
}

/** Defaults of the participation rule. */
export const PARTICIPATION_DEFAULTS: Readonly<ParticipationSettings> = Object.freeze({
  checkEveryMs: 2_000,
  checksToLeave: 3,
  checksToReturn: 3,
  minDwellMs: 10_000,
  holdMs: 20_000,
  trendHalfLifeMs: 10_000,
});

/** Validate settings merged onto the defaults. @throws ERR_BAD_SCENARIO naming the field. */
export function resolveParticipation(over: Partial<ParticipationSettings> = {}): ParticipationSettings {
  const s = { ...PARTICIPATION_DEFAULTS, ...over };
  for (const [k, v] of Object.entries(s)) {
    const min = k === 'checksToLeave' || k === 'checksToReturn' || k === 'checkEveryMs' ? 1 : 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `economics.churn.${k} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, { details: { field: `economics.churn.${k}` } });
    }
  }
  return s;
}

/** A miner's memory of its decision. */
export interface ParticipationMemory {
  active: boolean;
  negStreak: number;
  posStreak: number;
  changedAtMs: number;
  leaves: number;
  returns: number;
}

export function createParticipation(): ParticipationMemory {
  return { active: true, negStreak: 0, posStreak: 0, changedAtMs: 0, leaves: 0, returns: 0 };
}

/** What a job earns a miner, per the pricing mode and the IMT price, and what it costs. */
export interface ProfitInputs {
  pricingMode: PricingMode;
  /** The miner's ask per job in the price unit (micro-mUSD; micro-IMT in `token-native`). */
  askMicro: number;
  computeSecondsPerJob: number;
  costUsdMicroPerComputeSecond: number;
  /** IMT price now and expected at cash-out (micro-USD per IMT); ignored in `stable`. */
  priceNowMicro: number;
  priceForecastMicro: number;
}

/**
 * Expected USD profit of one job, in micro-USD: the ask valued in dollars at cash-out minus the compute cost.
 * `stable`: the ask. `token`: the ask is paid in IMT at the price now and sold at the forecast price.
 * `token-native`: the ask is IMT, sold at the forecast price.
 */
export function expectedUsdProfitPerJobMicro(i: ProfitInputs): number {
  let revenue = i.askMicro;
  if (i.pricingMode === 'token') revenue = (i.askMicro * i.priceForecastMicro) / i.priceNowMicro;
  else if (i.pricingMode === 'token-native') revenue = (i.askMicro * i.priceForecastMicro) / 1e6;
  return revenue - i.computeSecondsPerJob * i.costUsdMicroPerComputeSecond;
}

/**
 * One check: update the streaks with this check's expected profit and decide. Mutates `mem`.
 * @returns `leave`, `return`, or `stay`.
 */
export function decideParticipation(mem: ParticipationMemory, check: { atMs: number; profitMicro: number }, s: ParticipationSettings): 'leave' | 'return' | 'stay' {
  if (check.profitMicro < 0) {
    mem.negStreak++;
    mem.posStreak = 0;
  } else {
    mem.posStreak++;
    mem.negStreak = 0;
  }
  const dwelt = check.atMs - mem.changedAtMs >= s.minDwellMs;
  if (mem.active && dwelt && mem.negStreak >= s.checksToLeave) {
    mem.active = false;
    mem.changedAtMs = check.atMs;
    mem.leaves++;
    return 'leave';
  }
  if (!mem.active && dwelt && mem.posStreak >= s.checksToReturn) {
    mem.active = true;
    mem.changedAtMs = check.atMs;
    mem.returns++;
    return 'return';
  }
  return 'stay';
}

/**
 * The price trend a miner extrapolates: an exponentially weighted mean of log-returns per ms (half-life
 * `halfLifeMs`), so `forecast(h)` = price now × exp(trend × h). Public data only (the oracle's prices).
 */
export function createPriceTrend(halfLifeMs: number): { observe(atMs: number, priceMicro: number): void; now(): number; forecast(horizonMs: number): number } {
  let last: { atMs: number; logP: number } | null = null;
  let trend = 0;
  return {
    observe(atMs, priceMicro) {
      const logP = Math.log(priceMicro);
      if (last && atMs > last.atMs) {
        const dt = atMs - last.atMs;
        const w = halfLifeMs > 0 ? 1 - Math.pow(0.5, dt / halfLifeMs) : 1;
        trend = trend + w * ((logP - last.logP) / dt - trend);
      }
      last = { atMs, logP };
    },
    now: () => (last ? Math.exp(last.logP) : NaN),
    forecast(h) {
      return last ? Math.exp(last.logP + trend * h) : NaN;
    },
  };
}

/** The part of a scenario's `economics` section the participation rule reads. */
export interface EconomicsCosts {
  minerCostUsdMicroPerComputeSecond?: number;
  minerCostByGroup?: Record<string, number>;
  churn?: { enabled?: boolean } & Partial<ParticipationSettings>;
}

/** A miner group's USD cost per compute second (micro-USD): its own entry, else the scenario's default, else 0. One rule for the simulator and the testnet. */
export function minerUsdCostMicro(e: EconomicsCosts | undefined, group: string): number {
  return e?.minerCostByGroup?.[group] ?? e?.minerCostUsdMicroPerComputeSecond ?? 0;
}

/** Whether miners run the participation rule: some miner has a USD cost and `churn.enabled` is not false. */
export function churnEnabled(e: EconomicsCosts | undefined): boolean {
  return (e?.churn?.enabled ?? true) && ((e?.minerCostUsdMicroPerComputeSecond ?? 0) > 0 || Object.keys(e?.minerCostByGroup ?? {}).length > 0);
}

/** The scenario's `economics.churn` resolved onto the defaults (without `enabled`). @throws ERR_BAD_SCENARIO naming the field. */
export function churnSettingsOf(e: EconomicsCosts | undefined): ParticipationSettings {
  return resolveParticipation(Object.fromEntries(Object.entries(e?.churn ?? {}).filter(([k]) => k !== 'enabled')) as Partial<ParticipationSettings>);
}
