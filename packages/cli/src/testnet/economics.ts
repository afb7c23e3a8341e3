import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { churnEnabled, churnSettingsOf, minerUsdCostMicro } from '@infermarket/agents';
import { decodeJson, openStore } from '@infermarket/market';
import { apply, createState, jobToken, resolveParams, type Scenario } from '@infermarket/protocol';
import { createEconomicsAccount, oracleSpec, type EconomicsReport } from '@infermarket/sim';
import type { TestnetPlan } from './plan.js';

/** Options for `testnetEconomics`. */
export interface TestnetEconomicsOptions {
  /** The run's market database (read after the market stopped). */
  dbPath: string;
  scenario: Scenario;
  plan: TestnetPlan;
  /** Directory of the nodes' logs (`<instance>.log`): the miners' measured compute per job. */
  logDir: string;
}

/**
 * The economics of a live testnet run, by the simulator's own accounting (`createEconomicsAccount`, one
 * implementation): the market's event log is replayed through the rules and every batch of effects fed to the
 * account, on the market clock counted from the oracle's origin (the price path's time 0). Churn comes from the
 * log too: a miner's `offer.withdraw` is a leave (only the participation rule withdraws an offer) and its next
 * `offer.post` a return. A miner's USD compute cost is its measured execution time (its log's `job.committed`
 * lines) times its `economics` cost. Null when the run has no oracle (no economics, stable pricing).
 */
export function testnetEconomics(o: TestnetEconomicsOptions): EconomicsReport | null {
  if (!o.plan.oracle) return null;
  const store = openStore(o.dbPath);
  try {
    const storedParams = store.getMeta('params');
    const params = resolveParams(storedParams ? decodeJson<Record<string, unknown>>(storedParams) : (o.scenario.params ?? {}));
    const models = JSON.parse(store.getMeta('models') ?? '[]') as string[];
    const state = createState({ params, models });
    const e = o.scenario.economics;
    const miners = o.plan.nodes.filter((n) => n.role === 'miner').map((n) => ({ id: n.id, address: n.address }));
    const idOf = new Map(miners.map((m) => [m.address, m.id]));
    const away = new Set<string>();
    const originMs = Number(store.getMeta('oracleOriginMs') ?? 'NaN');
    let origin = Number.isFinite(originMs) ? originMs : null;
    let nowMs = 0;
    const settings = churnSettingsOf(e);
    const account = createEconomicsAccount({
      pricingMode: params.pricingMode,
      stakeToken: params.stakeToken,
      token: jobToken(params),
      spec: oracleSpec(o.scenario),
      seed: o.plan.oracle.seed,
      startPriceMicro: BigInt(o.plan.oracle.points[0]![1]),
      windowMs: e?.windowMs ?? Math.max(1, Math.floor(o.scenario.durationMs / 20)),
      budgetUsdMicroPer1000Jobs: e?.budgetUsdMicroPer1000Jobs ?? null,
      settings,
      churnEnabled: churnEnabled(e),
      miners,
      now: () => nowMs,
      isActive: (id) => !away.has(id),
      latencyOfSettled: (jobId) => {
        const j = state.jobs.get(jobId);
        return j ? state.nowMs - j.submittedAtMs : undefined;
      },
    });
    // miners sell the IMT they have held for holdMs at every check time, as in the simulator (there: at each
    // churn check and each oracle step; a price series may step rarely)
    let nextSaleMs = settings.checkEveryMs;
    for (const ev of store.events()) {
      origin ??= ev.atMs;
      const at = Math.max(0, ev.atMs - origin);
      while (nextSaleMs <= at) {
        nowMs = nextSaleMs;
        account.sellDue();
        nextSaleMs += settings.checkEveryMs;
      }
      const fx = apply(state, ev);
      nowMs = Math.max(0, state.nowMs - origin);
      const who = 'by' in ev && typeof ev.by === 'string' ? idOf.get(ev.by) : undefined;
      if (who !== undefined && ev.type === 'offer.withdraw' && !away.has(who)) {
        away.add(who);
        account.churned(who, 'leave');
        account.noteActive();
      } else if (who !== undefined && ev.type === 'offer.post' && away.has(who)) {
        away.delete(who);
        account.churned(who, 'return');
      }
      account.observe(fx);
    }
    // measured compute: the miners' own logs (ms per committed job) at their group's USD cost
    for (const n of o.plan.nodes) {
      if (n.role !== 'miner') continue;
      const cost = minerUsdCostMicro(e, n.id.replace(/-\d+$/, ''));
      const file = join(o.logDir, `${n.id}.log`);
      if (cost <= 0 || !existsSync(file)) continue;
      let seconds = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.includes('"job.committed"')) continue;
        try {
          const x = JSON.parse(line) as { event?: string; ms?: number };
          if (x.event === 'job.committed' && typeof x.ms === 'number') seconds += x.ms / 1000;
        } catch {
          // a partial last line of a killed process
        }
      }
      account.addComputeCost(n.id, seconds * cost);
    }
    return account.report(state);
  } finally {
    store.close();
  }
}

/** One human line per fact of the economics report, for the testnet's terminal output. */
export function formatEconomics(r: EconomicsReport): string {
  const f = (x: number | null, d = 3): string => (x === null ? '-' : x.toFixed(d));
  const c = r.churn;
  return [
    `economics pricingMode ${r.pricingMode}, stakeToken ${r.stakeToken}; IMT ${f(r.oracle.startPriceMicro / 1e6)} → ${f(r.oracle.endPriceMicro / 1e6)} USD (min ${f(r.oracle.minPriceMicro / 1e6)}, max ${f(r.oracle.maxPriceMicro / 1e6)}; ${r.oracle.updates} prices, seed ${r.oracle.seed}; ${r.oracle.shortfalls} escrow shortfalls)`,
    `economics client USD per 1,000 jobs ${f(r.clientUsdPer1000Jobs)} (at spot ${f(r.clientUsdPer1000JobsAtSpot)}; spread over windows: std ${f(r.clientUsdPer1000JobsStd)}, CV ${f(r.clientUsdPer1000JobsCv)})${r.budgetExceededShare !== null ? `; over budget in ${(r.budgetExceededShare * 100).toFixed(0)}% of windows` : ''}`,
    `economics miners' USD profit mean ${f(r.minerUsdProfit.mean, 4)} (std ${f(r.minerUsdProfit.std, 4)}); churn ${c.enabled ? `${c.leaves} leaves / ${c.returns} returns, fewest active ${c.minActive} of ${c.minersTotal}` : 'off'}; active per window ${r.windows.activeMiners.join(' ')}`,
    `economics conserved per token: ${Object.entries(r.conservedByToken).map(([t, ok]) => `${t} ${ok ? 'yes' : 'NO'}`).join(', ')}`,
  ].join('\n');
}
