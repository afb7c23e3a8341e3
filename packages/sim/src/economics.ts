import {
  createParticipation,
  createPriceTrend,
  decideParticipation,
  expectedUsdProfitPerJobMicro,
  pricePath,
  resolveParticipation,
  type ParticipationMemory,
  type ParticipationSettings,
  type PriceProcessSpec,
} from '@infermarket/agents';
import { imtToUsdMicro, InfermarketError, jobToken, ledgerTotals, TOKENS, type Effect, type MarketEvent, type Scenario, type Token } from '@infermarket/protocol';
import { computeMs, DEFAULT_MAX_TOKENS } from './cost-model.js';
import type { MinerAgent, SimWorld } from './sim-world.js';

/**
 * The simulator's side of docs/economics.md: the market's oracle (its seeded price process, published as
 * `oracle.price` events), clients' IMT treasuries, miners' USD costs and their churn (the agents'
 * `decideParticipation`, the one rule), and the USD accounting the report reads. Active only when the
 * scenario has an `economics` section or a `pricingMode` other than `stable`.
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

export interface SimEconomics {
  /** At t=0, before nodes join: publish the first price, fund IMT, queue the rest of the path. */
  setup(mustSend: (ev: MarketEvent) => void): void;
  /** Every batch of effects the run handles (before its jobs are forgotten). */
  observe(fx: readonly Effect[]): void;
  /** A churn check is due (the `econ` item). */
  check(): void;
  readonly checkEveryMs: number;
  report(): EconomicsReport;
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

function oracleSpec(scenario: Scenario): PriceProcessSpec {
  const o = scenario.economics?.oracle;
  if (!o) return { kind: 'gbm', startPriceMicro: 1_000_000, driftPerHour: 0, volatilityPerSqrtHour: 0, stepMs: 1_000 };
  if (o.kind === 'series') {
    if (!o.points) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `economics.oracle: a "series" needs "points"${o.file ? ` (the file ${JSON.stringify(o.file)} is read by the CLI, which inlines it; call loadEconomicsFiles first)` : ''}`, {
        details: { field: 'economics.oracle.points' },
      });
    }
    return { kind: 'series', points: o.points };
  }
  return {
    kind: 'gbm',
    startPriceMicro: o.startPriceMicro ?? 1_000_000,
    driftPerHour: o.driftPerHour ?? 0,
    volatilityPerSqrtHour: o.volatilityPerSqrtHour ?? 0,
    stepMs: o.stepMs ?? 1_000,
    jumpsPerHour: o.jumpsPerHour ?? 0,
    jumpMeanLog: o.jumpMeanLog ?? 0,
    jumpStdLog: o.jumpStdLog ?? 0,
  };
}

/** What the client of `jobId` paid in this batch of effects (miner, protocol and validator fees), in the job token. */
export function jobPaidMicro(fx: readonly Effect[], jobId: string): bigint {
  let paid = 0n;
  for (const e of fx) {
    if (e.type !== 'ledger.entry' || e.entry.ref !== jobId) continue;
    const r = e.entry.reason;
    if (r === 'pay-miner' || r === 'protocol-fee' || r === 'validator-fee') paid += e.entry.amountMicro;
  }
  return paid;
}

/** The economics of a run, or null when the scenario uses none of it. */
export function createSimEconomics(w: SimWorld, scenario: Scenario): SimEconomics | null {
  const e = scenario.economics;
  const mode = w.P.pricingMode;
  if (!e && mode === 'stable' && w.P.stakeToken === 'mUSD') return null;
  const spec = oracleSpec(scenario);
  const path = pricePath(spec, { seed: w.seed, durationMs: scenario.durationMs });
  if (path.length === 0 || path[0]!.atMs !== 0) {
    throw new InfermarketError('ERR_BAD_SCENARIO', 'economics.oracle: the price series must start at atMs 0 (the market needs a price before the first job)', { details: { field: 'economics.oracle.points' } });
  }
  const startPrice = path[0]!.priceMicro;
  const settings = resolveParticipation(Object.fromEntries(Object.entries(e?.churn ?? {}).filter(([k]) => k !== 'enabled')));
  const costDefault = e?.minerCostUsdMicroPerComputeSecond ?? 0;
  const churnOn = (e?.churn?.enabled ?? true) && (costDefault > 0 || Object.keys(e?.minerCostByGroup ?? {}).length > 0);
  const windowMs = e?.windowMs ?? Math.max(1, Math.floor(scenario.durationMs / 20));
  const budget = e?.budgetUsdMicroPer1000Jobs ?? null;
  const token = jobToken(w.P);

  const groupOf = (m: MinerAgent): string => m.id.replace(/-\d+$/, '');
  const costOf = (m: MinerAgent): number => e?.minerCostByGroup?.[groupOf(m)] ?? costDefault;
  // a miner's expected job: its models weighted by the clients' mix; generation length from the clients
  const mix = new Map<string, number>();
  let tokensSum = 0;
  let tokensN = 0;
  for (const c of scenario.clients) {
    for (const [model, wt] of Object.entries(c.models)) mix.set(model, (mix.get(model) ?? 0) + wt * c.count * c.ratePerSec);
    tokensSum += c.maxTokens ?? DEFAULT_MAX_TOKENS;
    tokensN++;
  }
  const tokens = tokensN ? tokensSum / tokensN : DEFAULT_MAX_TOKENS;
  const profile = new Map<MinerAgent, { askMicro: number; computeSeconds: number }>();
  for (const m of w.miners) {
    let wsum = 0;
    let ask = 0;
    let sec = 0;
    for (const model of m.models) {
      const wt = mix.get(model) ?? 0;
      if (wt <= 0 || m.price[model] === undefined) continue;
      wsum += wt;
      ask += wt * Number(m.price[model]);
      sec += (wt * computeMs(model, m.variant, model === 'charlm' ? tokens : 0, w.costOverrides)) / 1000;
    }
    profile.set(m, wsum > 0 ? { askMicro: ask / wsum, computeSeconds: sec / wsum } : { askMicro: 0, computeSeconds: 0 });
  }
  const memory = new Map<MinerAgent, ParticipationMemory>(w.miners.map((m) => [m, createParticipation()]));
  const trend = createPriceTrend(settings.trendHalfLifeMs);
  // IMT a miner was paid and has not sold yet, in lots (sold `holdMs` after receipt at the oracle price then)
  const lots = new Map<string, { atMs: number; micro: bigint }[]>();
  const usdEarned = new Map<MinerAgent, number>();
  const usdCost = new Map<MinerAgent, number>();
  let price = startPrice;
  let minPrice = startPrice;
  let maxPrice = startPrice;
  let totalUsdBasis = 0;
  let totalUsdSpot = 0;
  let totalSettled = 0;
  // the current window
  let win = { endMs: windowMs, usd: 0, settled: 0, failed: 0, lat: [] as number[] };
  const windows: EconomicsReport['windows'] = { tMs: [], priceUsd: [], usdPer1000Jobs: [], activeMiners: [], settled: [], failed: [], successRate: [], latencyP50Ms: [], latencyP95Ms: [] };
  let leaves = 0;
  let returns = 0;
  const churnEvents: EconomicsReport['churn']['events'] = [];
  const changeAt: { leave: number[]; return: number[] } = { leave: [], return: [] };
  const history: { atMs: number; price: number }[] = [{ atMs: 0, price: Number(startPrice) }];
  const priceAgo = (ms: number): number => {
    const t = w.now - ms;
    let p = history[0]!.price;
    for (const h of history) {
      if (h.atMs > t) break;
      p = h.price;
    }
    return p;
  };
  let minActive = w.miners.length;
  const activeCount = (): number => w.miners.filter((m) => !m.away).length;

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

  const sellDue = (m: MinerAgent, all: boolean): void => {
    const list = lots.get(m.address);
    if (!list) return;
    let i = 0;
    while (i < list.length && (all || w.now - list[i]!.atMs >= settings.holdMs)) {
      usdEarned.set(m, (usdEarned.get(m) ?? 0) + Number(imtToUsdMicro(list[i]!.micro, price)));
      i++;
    }
    list.splice(0, i);
  };

  const econ: SimEconomics = {
    checkEveryMs: settings.checkEveryMs,
    setup(mustSend) {
      mustSend({ type: 'oracle.price', atMs: 0, priceMicro: startPrice });
      for (const p of path.slice(1)) w.queue.push(p.atMs, { type: 'oracle.price', atMs: p.atMs, priceMicro: p.priceMicro });
      trend.observe(0, Number(startPrice));
      const clientImt = e?.clientImtMicro !== undefined ? BigInt(e.clientImtMicro) : w.P.faucetCapMicro;
      if (token === 'IMT') for (const c of w.clients) if (clientImt > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: c.address, amountMicro: clientImt, token: 'IMT' });
      if (w.P.stakeToken === 'IMT') {
        for (const n of [...w.miners, ...w.validators]) if (n.fundTarget > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: n.address, amountMicro: n.fundTarget, token: 'IMT' });
      }
      if (churnOn) w.queue.push(settings.checkEveryMs, { k: 'econ' });
    },
    observe(fx) {
      for (const ef of fx) {
        if (ef.type === 'oracle.updated') {
          closeWindows(w.now);
          price = ef.priceMicro;
          if (price < minPrice) minPrice = price;
          if (price > maxPrice) maxPrice = price;
          trend.observe(w.now, Number(price));
          history.push({ atMs: w.now, price: Number(price) });
          // miners sell the IMT they have held for holdMs, at this price (with or without churn checks)
          for (const m of w.miners) sellDue(m, false);
          continue;
        }
        if (ef.type === 'ledger.entry') {
          const en = ef.entry;
          if ((en.token ?? 'mUSD') !== token) continue;
          if (en.reason === 'pay-miner' && token === 'IMT' && en.to.startsWith('balance:')) {
            const a = en.to.slice(8);
            const list = lots.get(a) ?? [];
            list.push({ atMs: w.now, micro: en.amountMicro });
            lots.set(a, list);
          } else if (en.reason === 'pay-miner') {
            const m = w.byAddress.get(en.to.slice(8));
            if (m) usdEarned.set(m, (usdEarned.get(m) ?? 0) + Number(en.amountMicro));
          }
          if (en.reason === 'pay-miner' || en.reason === 'protocol-fee' || en.reason === 'validator-fee') {
            // the client's cost: mUSD is dollars; IMT is valued at the treasury's basis (the start price) and at spot
            const amt = en.amountMicro;
            const basis = token === 'IMT' ? Number(imtToUsdMicro(amt, startPrice)) : Number(amt);
            const spot = token === 'IMT' ? Number(imtToUsdMicro(amt, price)) : Number(amt);
            closeWindows(w.now);
            win.usd += basis / 1e6;
            totalUsdBasis += basis / 1e6;
            totalUsdSpot += spot / 1e6;
          }
          continue;
        }
        if (ef.type === 'job.settled' || ef.type === 'job.failed') {
          closeWindows(w.now);
          const job = w.jobs.get(ef.jobId);
          if (ef.type === 'job.settled') {
            win.settled++;
            totalSettled++;
            if (job) win.lat.push(w.now - job.submittedAtMs + w.netMs);
          } else win.failed++;
        }
        if (ef.type === 'job.assigned') {
          const m = w.byAddress.get(ef.miner);
          const job = w.jobs.get(ef.jobId);
          if (m && job) usdCost.set(m, (usdCost.get(m) ?? 0) + (computeMs(job.model, m.variant, job.tokens, w.costOverrides, job.rows) / 1000) * costOf(m));
        }
      }
    },
    check() {
      closeWindows(w.now);
      for (const m of w.miners) sellDue(m, false);
      const now = Number(price);
      const forecast = trend.forecast(settings.holdMs);
      for (const m of w.miners) {
        const prof = profile.get(m)!;
        if (prof.askMicro === 0) continue;
        const profit = expectedUsdProfitPerJobMicro({
          pricingMode: mode,
          askMicro: prof.askMicro,
          computeSecondsPerJob: prof.computeSeconds,
          costUsdMicroPerComputeSecond: costOf(m),
          priceNowMicro: now,
          priceForecastMicro: forecast,
        });
        const d = decideParticipation(memory.get(m)!, { atMs: w.now, profitMicro: profit }, settings);
        if (d === 'stay') continue;
        m.away = d === 'leave';
        if (d === 'leave') leaves++;
        else returns++;
        const change = Math.log(now / priceAgo(settings.trendHalfLifeMs));
        changeAt[d].push(change);
        if (churnEvents.length < 1_000) churnEvents.push({ atMs: w.now, miner: m.id, action: d, priceMicro: now, priceChangeLog: change });
      }
      minActive = Math.min(minActive, activeCount());
      if (w.now + settings.checkEveryMs <= scenario.durationMs) w.queue.push(w.now + settings.checkEveryMs, { k: 'econ' });
    },
    report() {
      closeWindows(w.now);
      for (const m of w.miners) sellDue(m, true);
      const perWin = windows.usdPer1000Jobs.filter((x): x is number => x !== null);
      const ms = meanStd(perWin);
      const profits: Record<string, number> = {};
      for (const m of w.miners) profits[m.id] = ((usdEarned.get(m) ?? 0) - (usdCost.get(m) ?? 0)) / 1e6;
      const pm = meanStd(Object.values(profits));
      const conserved = {} as Record<Token, boolean>;
      const minted = {} as Record<Token, string>;
      for (const t of TOKENS) {
        const lt = ledgerTotals(w.state, t);
        conserved[t] = lt.conserved;
        minted[t] = lt.mintedMicro.toString();
      }
      return {
        pricingMode: mode,
        stakeToken: w.P.stakeToken,
        oracle: {
          spec,
          seed: w.seed,
          startPriceMicro: Number(startPrice),
          endPriceMicro: Number(price),
          minPriceMicro: Number(minPrice),
          maxPriceMicro: Number(maxPrice),
          updates: w.state.oracle?.updates ?? 0,
          shortfalls: w.state.oracle?.shortfalls ?? 0,
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
          enabled: churnOn,
          settings,
          leaves,
          returns,
          minActive,
          minersTotal: w.miners.length,
          meanPriceChangeAtLeaves: changeAt.leave.length ? meanStd(changeAt.leave).mean : null,
          meanPriceChangeAtReturns: changeAt.return.length ? meanStd(changeAt.return).mean : null,
          events: churnEvents,
        },
        windows,
      };
    },
  };
  return econ;
}
