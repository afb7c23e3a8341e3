import { createPriceTrend, type ParticipationSettings, type PriceProcessSpec } from '@infermarket/agents';
import { imtToUsdMicro, ledgerTotals, TOKENS, type Effect, type MarketState, type PricingMode, type Token } from '@infermarket/protocol';

/**
 * A run's economics in dollars (docs/economics.md): the same report for a simulation (`report.economics` of
 * `infermarket sim`) and a live testnet (`report.economics` of `infermarket testnet`, computed by replaying the
 * market's event log): one implementation, `createEconomicsAccount`.
 */
export interface EconomicsReport {
  pricingMode: string;
  stakeToken: Token;
  /** The oracle's process (after overrides) and the seed its path was drawn with. */
  oracle: { spec: PriceProcessSpec; seed: number; startPriceMicro: number; endPriceMicro: number; minPriceMicro: number; maxPriceMicro: number; updates: number; shortfalls: number };
  /** Per token: minted = held (checked at the end of the run). */
  conservedByToken: Record<Token, boolean>;
  mintedByToken: Record<Token, string>;
  /** Client cost in USD per 1,000 settled jobs over the whole run, at the treasury's cost basis (the start price). */
  clientUsdPer1000Jobs: number | null;
  /** The same, valued at the oracle price when each job settled. */
  clientUsdPer1000JobsAtSpot: number | null;
  /** Spread of the per-window cost per 1,000 jobs: standard deviation, and as a share of the mean (coefficient of variation). */
  clientUsdPer1000JobsStd: number | null;
  clientUsdPer1000JobsCv: number | null;
  /** Share of windows (with settled jobs) whose cost per 1,000 jobs exceeded `budgetUsdMicroPer1000Jobs` (null without a budget). */
  budgetExceededShare: number | null;
  budgetUsdPer1000Jobs: number | null;
  /** Miners' USD earnings (sales at the oracle price after `holdMs`, the rest valued at the final price) minus USD compute cost. */
  minerUsdProfit: { mean: number; std: number; perMiner: Record<string, number> };
  /** Miner leaves and returns over the run, and the lowest number active at a window's end. */
  churn: {
    enabled: boolean;
    settings: ParticipationSettings;
    leaves: number;
    returns: number;
    minActive: number;
    minersTotal: number;
    /** Mean log change of the IMT price over the `trendHalfLifeMs` before each leave and each return (null if none). */
    meanPriceChangeAtLeaves: number | null;
    meanPriceChangeAtReturns: number | null;
    /** The first 1,000 leaves and returns: when, who, the price then and its log change over the preceding `trendHalfLifeMs`. */
    events: { atMs: number; miner: string; action: 'leave' | 'return'; priceMicro: number; priceChangeLog: number }[];
  };
  /** Per window: its end time, the IMT price at its end, cost per 1,000 jobs, active miners, settled and failed jobs, success rate, latency p50/p95. */
  windows: {
    tMs: number[];
    priceUsd: number[];
    usdPer1000Jobs: (number | null)[];
    activeMiners: number[];
    settled: number[];
    failed: number[];
    successRate: (number | null)[];
    latencyP50Ms: (number | null)[];
    latencyP95Ms: (number | null)[];
  };
}

const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const meanStd = (xs: number[]): { mean: number; std: number } => {
  if (xs.length === 0) return { mean: 0, std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
};

/** What the account needs to know about the run it observes (the simulator's world, or a replayed testnet log). */
export interface EconomicsAccountOptions {
  pricingMode: PricingMode;
  stakeToken: Token;
  /** The job token (`jobToken(params)`). */
  token: Token;
  spec: PriceProcessSpec;
  seed: number;
  /** The oracle's first price: clients bought their IMT treasury at it (the cost basis). */
  startPriceMicro: bigint;
  windowMs: number;
  budgetUsdMicroPer1000Jobs: number | null;
  settings: ParticipationSettings;
  churnEnabled: boolean;
  /** Every miner: its report name and address. */
  miners: readonly { id: string; address: string }[];
  /** Time of the effects being observed (run ms; the first window ends at `windowMs`). */
  now: () => number;
  /** Whether a miner (by id) is serving now. */
  isActive: (id: string) => boolean;
  /** Client-seen latency of a job settling now, if known. */
  latencyOfSettled: (jobId: string) => number | undefined;
  /** USD compute cost (micro) of a job assigned now to a miner (the simulator's cost model); live costs come through `addComputeCost`. */
  computeUsdOfAssignment?: (minerAddress: string, jobId: string) => number;
}

/** The USD accounting of a run: feed it every batch of effects in order, then read `report`. */
export interface EconomicsAccount {
  observe(fx: readonly Effect[]): void;
  /** A miner left or returned now (the participation rule decided): recorded with the price and its recent change. */
  churned(id: string, action: 'leave' | 'return'): void;
  /** Count the active miners now toward the run's minimum (after a round of churn checks). */
  noteActive(): void;
  /** Miners sell the IMT they have held for `holdMs`, at the price now. */
  sellDue(): void;
  /** Add a miner's measured USD compute cost (micro). */
  addComputeCost(id: string, usdMicro: number): void;
  /** The IMT price now and the trend's forecast `horizonMs` ahead (micro-USD per IMT). */
  priceMicro(): bigint;
  forecast(horizonMs: number): number;
  report(state: MarketState): EconomicsReport;
}

/**
 * The one implementation of the economics report: client cost per 1,000 jobs in USD (at the treasury's cost basis
 * and at spot) with its spread over windows, the share of windows over budget, miners' USD profit (IMT sold
 * `holdMs` after receipt at the oracle price, the rest at the final price, minus USD compute), churn with the price
 * change before each leave and return, per-window price, active miners, success and latency, and conservation per
 * token. Used by the simulator (`createSimEconomics`) and the testnet report (`testnetEconomics` in the CLI).
 */
export function createEconomicsAccount(o: EconomicsAccountOptions): EconomicsAccount {
  const { token, settings, windowMs } = o;
  const startPrice = o.startPriceMicro;
  const budget = o.budgetUsdMicroPer1000Jobs;
  const idOf = new Map(o.miners.map((m) => [m.address, m.id]));
  const trend = createPriceTrend(settings.trendHalfLifeMs);
  // IMT a miner was paid and has not sold yet, in lots (sold `holdMs` after receipt at the oracle price then)
  const lots = new Map<string, { atMs: number; micro: bigint }[]>();
  const usdEarned = new Map<string, number>();
  const usdCost = new Map<string, number>();
  let price = startPrice;
  let minPrice = startPrice;
  let maxPrice = startPrice;
  let totalUsdBasis = 0;
  let totalUsdSpot = 0;
  let totalSettled = 0;
  let win = { endMs: windowMs, usd: 0, settled: 0, failed: 0, lat: [] as number[] };
  const windows: EconomicsReport['windows'] = { tMs: [], priceUsd: [], usdPer1000Jobs: [], activeMiners: [], settled: [], failed: [], successRate: [], latencyP50Ms: [], latencyP95Ms: [] };
  let leaves = 0;
  let returns = 0;
  const churnEvents: EconomicsReport['churn']['events'] = [];
  const changeAt: { leave: number[]; return: number[] } = { leave: [], return: [] };
  const history: { atMs: number; price: number }[] = [{ atMs: 0, price: Number(startPrice) }];
  trend.observe(0, Number(startPrice));
  const priceAgo = (ms: number): number => {
    const t = o.now() - ms;
    let p = history[0]!.price;
    for (const h of history) {
      if (h.atMs > t) break;
      p = h.price;
    }
    return p;
  };
  let minActive = o.miners.length;
  const activeCount = (): number => o.miners.filter((m) => o.isActive(m.id)).length;

  const closeWindows = (upTo: number): void => {
    while (win.endMs <= upTo) {
      windows.tMs.push(win.endMs);
      windows.priceUsd.push(Number(price) / 1e6);
      windows.usdPer1000Jobs.push(win.settled ? (win.usd / win.settled) * 1000 : null);
      const active = activeCount();
      windows.activeMiners.push(active);
      minActive = Math.min(minActive, active);
      windows.settled.push(win.settled);
      windows.failed.push(win.failed);
      windows.successRate.push(win.settled + win.failed ? win.settled / (win.settled + win.failed) : null);
      windows.latencyP50Ms.push(quantile(win.lat, 0.5));
      windows.latencyP95Ms.push(quantile(win.lat, 0.95));
      win = { endMs: win.endMs + windowMs, usd: 0, settled: 0, failed: 0, lat: [] };
    }
  };

  const sellDueOf = (id: string, all: boolean): void => {
    const list = lots.get(id);
    if (!list) return;
    let i = 0;
    while (i < list.length && (all || o.now() - list[i]!.atMs >= settings.holdMs)) {
      usdEarned.set(id, (usdEarned.get(id) ?? 0) + Number(imtToUsdMicro(list[i]!.micro, price)));
      i++;
    }
    list.splice(0, i);
  };
  const sellAll = (all: boolean): void => {
    for (const m of o.miners) sellDueOf(m.id, all);
  };

  return {
    observe(fx) {
      for (const ef of fx) {
        if (ef.type === 'oracle.updated') {
          closeWindows(o.now());
          price = ef.priceMicro;
          if (price < minPrice) minPrice = price;
          if (price > maxPrice) maxPrice = price;
          trend.observe(o.now(), Number(price));
          history.push({ atMs: o.now(), price: Number(price) });
          // miners sell the IMT they have held for holdMs, at this price (with or without churn checks)
          sellAll(false);
          continue;
        }
        if (ef.type === 'ledger.entry') {
          const en = ef.entry;
          if ((en.token ?? 'mUSD') !== token) continue;
          if (en.reason === 'pay-miner' && en.to.startsWith('balance:')) {
            const id = idOf.get(en.to.slice(8));
            if (id !== undefined && token === 'IMT') {
              const list = lots.get(id) ?? [];
              list.push({ atMs: o.now(), micro: en.amountMicro });
              lots.set(id, list);
            } else if (id !== undefined) usdEarned.set(id, (usdEarned.get(id) ?? 0) + Number(en.amountMicro));
          }
          if (en.reason === 'pay-miner' || en.reason === 'protocol-fee' || en.reason === 'validator-fee') {
            // the client's cost: mUSD is dollars; IMT is valued at the treasury's basis (the start price) and at spot
            const amt = en.amountMicro;
            const basis = token === 'IMT' ? Number(imtToUsdMicro(amt, startPrice)) : Number(amt);
            const spot = token === 'IMT' ? Number(imtToUsdMicro(amt, price)) : Number(amt);
            closeWindows(o.now());
            win.usd += basis / 1e6;
            totalUsdBasis += basis / 1e6;
            totalUsdSpot += spot / 1e6;
          }
          continue;
        }
        if (ef.type === 'job.settled' || ef.type === 'job.failed') {
          closeWindows(o.now());
          if (ef.type === 'job.settled') {
            win.settled++;
            totalSettled++;
            const lat = o.latencyOfSettled(ef.jobId);
            if (lat !== undefined) win.lat.push(lat);
          } else win.failed++;
        }
        if (ef.type === 'job.assigned' && o.computeUsdOfAssignment) {
          const id = idOf.get(ef.miner);
          if (id !== undefined) usdCost.set(id, (usdCost.get(id) ?? 0) + o.computeUsdOfAssignment(ef.miner, ef.jobId));
        }
      }
    },
    churned(id, action) {
      if (action === 'leave') leaves++;
      else returns++;
      const now = Number(price);
      const change = Math.log(now / priceAgo(settings.trendHalfLifeMs));
      changeAt[action].push(change);
      if (churnEvents.length < 1_000) churnEvents.push({ atMs: o.now(), miner: id, action, priceMicro: now, priceChangeLog: change });
    },
    noteActive() {
      minActive = Math.min(minActive, activeCount());
    },
    sellDue() {
      closeWindows(o.now());
      sellAll(false);
    },
    addComputeCost(id, usdMicro) {
      usdCost.set(id, (usdCost.get(id) ?? 0) + usdMicro);
    },
    priceMicro: () => price,
    forecast: (h) => trend.forecast(h),
    report(state) {
      closeWindows(o.now());
      sellAll(true);
      const perWin = windows.usdPer1000Jobs.filter((x): x is number => x !== null);
      const ms = meanStd(perWin);
      const profits: Record<string, number> = {};
      for (const m of o.miners) profits[m.id] = ((usdEarned.get(m.id) ?? 0) - (usdCost.get(m.id) ?? 0)) / 1e6;
      const pm = meanStd(Object.values(profits));
      const conserved = {} as Record<Token, boolean>;
      const minted = {} as Record<Token, string>;
      for (const t of TOKENS) {
        const lt = ledgerTotals(state, t);
        conserved[t] = lt.conserved;
        minted[t] = lt.mintedMicro.toString();
      }
      return {
        pricingMode: o.pricingMode,
        stakeToken: o.stakeToken,
        oracle: {
          spec: o.spec,
          seed: o.seed,
          startPriceMicro: Number(startPrice),
          endPriceMicro: Number(price),
          minPriceMicro: Number(minPrice),
          maxPriceMicro: Number(maxPrice),
          updates: state.oracle?.updates ?? 0,
          shortfalls: state.oracle?.shortfalls ?? 0,
        },
        conservedByToken: conserved,
        mintedByToken: minted,
        clientUsdPer1000Jobs: totalSettled ? (totalUsdBasis / totalSettled) * 1000 : null,
        clientUsdPer1000JobsAtSpot: totalSettled ? (totalUsdSpot / totalSettled) * 1000 : null,
        clientUsdPer1000JobsStd: perWin.length > 1 ? ms.std : null,
        clientUsdPer1000JobsCv: perWin.length > 1 && ms.mean > 0 ? ms.std / ms.mean : null,
        budgetExceededShare: budget !== null && perWin.length ? perWin.filter((x) => x > budget / 1e6).length / perWin.length : null,
        budgetUsdPer1000Jobs: budget !== null ? budget / 1e6 : null,
        minerUsdProfit: { mean: pm.mean, std: pm.std, perMiner: profits },
        churn: {
          enabled: o.churnEnabled,
          settings,
          leaves,
          returns,
          minActive,
          minersTotal: o.miners.length,
          meanPriceChangeAtLeaves: changeAt.leave.length ? meanStd(changeAt.leave).mean : null,
          meanPriceChangeAtReturns: changeAt.return.length ? meanStd(changeAt.return).mean : null,
          events: churnEvents,
        },
        windows,
      };
    },
  };
}
