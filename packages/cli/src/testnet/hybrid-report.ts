import { openStore } from '@infermarket/market';
import { imtToUsdMicro, jobToken, resolveParams, type Scenario } from '@infermarket/protocol';
import { hybridGroupReport, type HybridGroupReport, type HybridGroupTally } from '@infermarket/sim';
import type { TestnetPlan } from './plan.js';

/** Options for `testnetHybrid`. */
export interface TestnetHybridOptions {
  dbPath: string;
  scenario: Scenario;
  plan: TestnetPlan;
  /** Each load process's JSON lines, by client group. */
  loadLines: ReadonlyMap<string, readonly Record<string, unknown>[]>;
}

/**
 * The hybrid client groups of a live run, by the simulator's report (`hybridGroupReport`, one implementation):
 * per group the jobs answered by the market, by the baseline directly (`split`) and by the baseline after the
 * market (`fallback`), their share, the client-measured latency (submit → answer) per route and of
 * latency-sensitive jobs, and USD per 1,000 answered jobs — the baseline's receipts plus every market job the
 * group submitted that the market paid out (a fallen-back market job that settled later included), read from
 * the market's database (IMT valued at the oracle's start price, the clients' cost basis). `cloudLatencyMs` is
 * the measured median of baseline-answered jobs (the simulator's is a modelled constant). Empty without hybrid groups.
 */
export function testnetHybrid(o: TestnetHybridOptions): HybridGroupReport[] {
  const groups = o.plan.loads.filter((l) => l.hybrid);
  if (!groups.length) return [];
  const params = resolveParams(o.scenario.params ?? {});
  const basis = o.plan.oracle ? BigInt(o.plan.oracle.points[0]![1]) : 1_000_000n;
  const toUsd = (micro: bigint): number => (jobToken(params) === 'IMT' ? Number(imtToUsdMicro(micro, basis)) : Number(micro));
  const store = openStore(o.dbPath);
  let rows: ReturnType<typeof store.jobRows>;
  try {
    rows = store.jobRows();
  } finally {
    store.close();
  }
  const marketPaid = (jobId: string): bigint => {
    const r = rows.get(jobId)?.receipt;
    if (!r) return 0n;
    const paid = (JSON.parse(r) as { body?: { paidMicro?: string } }).body?.paidMicro;
    return paid && /^\d+$/.test(paid) ? BigInt(paid) : 0n;
  };
  return groups.map((l) => {
    const h = l.hybrid!;
    const tally: HybridGroupTally = {
      group: l.id,
      policy: h.policy,
      fallbackAfterMs: h.fallbackAfterMs,
      cloudPriceMicro: BigInt(o.plan.cloud?.priceMicro ?? '10000'),
      cloudLatencyMs: 0,
      latencyMs: { market: [], cloud: [], fallback: [] },
      latencySensitiveMs: [],
      usdMicro: 0,
    };
    for (const j of o.loadLines.get(l.id) ?? []) {
      if (j.event !== 'job') continue;
      for (const s of (j.submittedTo as { to: string; jobId: string }[] | undefined) ?? []) if (s.to === 'market') tally.usdMicro += toUsd(marketPaid(s.jobId));
      if (j.status !== 'settled' || typeof j.latencyMs !== 'number') continue;
      const route = j.route === 'market' ? 'market' : j.route === 'cloud' ? 'cloud' : j.route === 'market→cloud' ? 'fallback' : null;
      if (!route) continue;
      // the baseline's own receipt: mUSD, a dollar each
      if (route !== 'market' && typeof j.paidMicro === 'string') tally.usdMicro += Number(j.paidMicro);
      tally.latencyMs[route].push(j.latencyMs);
      if (j.latencySensitive === true) tally.latencySensitiveMs.push(j.latencyMs);
    }
    const cloudLat = [...tally.latencyMs.cloud].sort((a, b) => a - b);
    tally.cloudLatencyMs = cloudLat.length ? cloudLat[Math.floor(cloudLat.length / 2)]! : 0;
    return hybridGroupReport(tally);
  });
}

/** One line per hybrid group for the testnet's terminal output. */
export function formatHybrid(groups: readonly HybridGroupReport[]): string {
  const f = (x: number | null): string => (x === null ? '-' : String(Math.round(x)));
  return groups
    .map(
      (g) =>
        `hybrid    ${g.group} (${g.policy}${g.policy === 'fallback' ? `, fallbackAfterMs ${g.fallbackAfterMs}` : ''}): market ${g.routed.market} / baseline ${g.routed.cloud} / fallback ${g.routed.fallback} (${(g.share.market * 100).toFixed(0)}% / ${(g.share.cloud * 100).toFixed(0)}% / ${(g.share.fallback * 100).toFixed(0)}%); USD per 1,000 jobs ${g.usdPer1000Jobs === null ? '-' : g.usdPer1000Jobs.toFixed(3)}; latency p50/p95 ${f(g.latencyMs.p50)}/${f(g.latencyMs.p95)} ms (market ${f(g.latencyMs.byRoute.market.p95)}, baseline ${f(g.latencyMs.byRoute.cloud.p95)}, fallback ${f(g.latencyMs.byRoute.fallback.p95)} at p95); latency-sensitive p95 ${f(g.latencyMs.latencySensitiveP95)} ms`,
    )
    .join('\n');
}
