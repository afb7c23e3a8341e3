import {
  churnEnabled,
  churnSettingsOf,
  createParticipation,
  decideParticipation,
  expectedUsdProfitPerJobMicro,
  minerUsdCostMicro,
  pricePath,
  type ParticipationMemory,
  type PriceProcessSpec,
} from '@infermarket/agents';
import { InfermarketError, jobToken, type Effect, type MarketEvent, type Scenario } from '@infermarket/protocol';
import { computeMs, DEFAULT_MAX_TOKENS } from './cost-model.js';
import { createEconomicsAccount, type EconomicsReport } from './economics-account.js';
import type { MinerAgent, SimWorld } from './sim-world.js';

export type { EconomicsReport } from './economics-account.js';

/**
 * The simulator's side of docs/economics.md: the market's oracle (its seeded price process, published as
 * `oracle.price` events), clients' IMT treasuries, miners' USD costs and their churn (the agents'
 * `decideParticipation`, the one rule), and the USD accounting the report reads (`createEconomicsAccount`, the
 * one the testnet report uses too). Active only when the scenario has an `economics` section or a `pricingMode`
 * other than `stable`.
 */
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

/** The IMT price process of a scenario (its `economics.oracle`, defaults filled in): the one the simulator and the testnet publish. @throws ERR_BAD_SCENARIO */
export function oracleSpec(scenario: Scenario): PriceProcessSpec {
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
  const settings = churnSettingsOf(e);
  const churnOn = churnEnabled(e);
  const windowMs = e?.windowMs ?? Math.max(1, Math.floor(scenario.durationMs / 20));
  const token = jobToken(w.P);

  const groupOf = (m: MinerAgent): string => m.id.replace(/-\d+$/, '');
  const costOf = (m: MinerAgent): number => minerUsdCostMicro(e, groupOf(m));
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
  const byId = new Map(w.miners.map((m) => [m.id, m]));
  const account = createEconomicsAccount({
    pricingMode: mode,
    stakeToken: w.P.stakeToken,
    token,
    spec,
    seed: w.seed,
    startPriceMicro: startPrice,
    windowMs,
    budgetUsdMicroPer1000Jobs: e?.budgetUsdMicroPer1000Jobs ?? null,
    settings,
    churnEnabled: churnOn,
    miners: w.miners.map((m) => ({ id: m.id, address: m.address })),
    now: () => w.now,
    isActive: (id) => !byId.get(id)!.away,
    latencyOfSettled: (jobId) => {
      const job = w.jobs.get(jobId);
      return job ? w.now - job.submittedAtMs + w.netMs : undefined;
    },
    computeUsdOfAssignment: (address, jobId) => {
      const m = w.byAddress.get(address);
      const job = w.jobs.get(jobId);
      return m && job ? (computeMs(job.model, m.variant, job.tokens, w.costOverrides, job.rows) / 1000) * costOf(m) : 0;
    },
  });

  const econ: SimEconomics = {
    checkEveryMs: settings.checkEveryMs,
    setup(mustSend) {
      mustSend({ type: 'oracle.price', atMs: 0, priceMicro: startPrice });
      for (const p of path.slice(1)) w.queue.push(p.atMs, { type: 'oracle.price', atMs: p.atMs, priceMicro: p.priceMicro });
      const clientImt = e?.clientImtMicro !== undefined ? BigInt(e.clientImtMicro) : w.P.faucetCapMicro;
      if (token === 'IMT') for (const c of w.clients) if (clientImt > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: c.address, amountMicro: clientImt, token: 'IMT' });
      if (w.P.stakeToken === 'IMT') {
        for (const n of [...w.miners, ...w.validators]) if (n.fundTarget > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: n.address, amountMicro: n.fundTarget, token: 'IMT' });
      }
      if (churnOn) w.queue.push(settings.checkEveryMs, { k: 'econ' });
    },
    observe(fx) {
      account.observe(fx);
    },
    check() {
      account.sellDue();
      const now = Number(account.priceMicro());
      const forecast = account.forecast(settings.holdMs);
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
        account.churned(m.id, d);
      }
      account.noteActive();
      if (w.now + settings.checkEveryMs <= scenario.durationMs) w.queue.push(w.now + settings.checkEveryMs, { k: 'econ' });
    },
    report() {
      return account.report(w.state);
    },
  };
  return econ;
}
