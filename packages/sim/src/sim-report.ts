import type { EconomicsReport } from './economics.js';
import type { HybridGroupReport } from './hybrid.js';
import { cpus } from 'node:os';
import { jobToken, ledgerTotals, paramsToJson, percentile, type AdaptiveMinerReport, type NoDataReason, type ResolvedScenario, type RunReport, type Scenario } from '@infermarket/protocol';
import { computeMs } from './cost-model.js';
import type { SimMetrics } from './metrics.js';
import { SIM_DEFAULTS } from './sim-defaults.js';
import type { MinerAgent, SimWorld } from './sim-world.js';
import { disputeTally } from './sim-bisection.js';

/** report.json of a simulation: the shared `RunReport` plus the simulator's own metrics. */
export interface SimReport extends RunReport {
  sim: SimMetrics;
  /** The scenario resolved against the defaults (`resolveScenario`): the same plan a testnet of this scenario runs. */
  resolved: ResolvedScenario;
  /** Reward token, USD costs and churn (present when the scenario has `economics` or a non-stable `pricingMode`). */
  economics?: EconomicsReport;
  /** Hybrid client groups: jobs routed to the market and to the modelled baseline, cost and latency. */
  hybrid?: HybridGroupReport[];
}

const VERSION = '0.1.0';

/** The run's report, read from the final state and the world's tallies. */
export function buildReport(
  w: SimWorld,
  run: { scenario: Scenario; resolved: ResolvedScenario; masterSeed: number; overrides: Readonly<Record<string, string | number | boolean>> | undefined; duration: number; series: RunReport['series'] },
): SimReport {
  const { state, tally: t, miners, validators, allModels } = w;
  const { scenario, duration } = run;
  const totals = ledgerTotals(state);
  const stats = state.stats;
  const finished = stats.settled + stats.failed;
  const heldBy = (address: string): bigint => {
    const node = state.nodes.get(address)!;
    let unb = 0n;
    for (const c of node.unbonding) unb += c.amountMicro;
    return (state.ledger.get(`balance:${address}`) ?? 0n) + node.stakeMicro + unb;
  };
  const profitOf = (m: MinerAgent): number => {
    let net = heldBy(m.address) - m.funded;
    for (const p of m.past) net += heldBy(p.address) - p.funded;
    return Number(net) - m.computeMicro;
  };
  const group = (pred: (m: MinerAgent) => boolean): { profit: number | null; perJob: number | null } => {
    const list = miners.filter(pred);
    if (list.length === 0) return { profit: null, perJob: null };
    const total = list.reduce((a, m) => a + profitOf(m), 0);
    const jobsDone = list.reduce((a, m) => a + m.commits, 0);
    return { profit: total / list.length, perJob: jobsDone ? total / jobsDone : null };
  };
  const honestG = group((m) => m.strategy === 'honest');
  const cheatG = group((m) => m.strategy === 'lazy' || m.strategy === 'downgrade' || m.strategy === 'replay');
  const adaptiveMiners = miners.filter((m) => m.learner);
  const adaptG = group((m) => m.learner !== null);
  const lateCommits = adaptiveMiners.reduce((a, m) => a + m.lateCommits, 0);
  const lateCheats = adaptiveMiners.reduce((a, m) => a + m.lateCheats, 0);
  // a removed miner is not a deterred one: each adaptive miner's learned level, realised rate, and why it has no data
  const half = duration / 2;
  const adaptiveOf = new Map<MinerAgent, AdaptiveMinerReport>();
  for (const m of adaptiveMiners) {
    const node = state.nodes.get(m.address)!;
    const removed = node.ejected ? 'ejected' : m.jailedUntilMs > duration ? 'jailed' : null;
    let noData: NoDataReason | null = null;
    if (m.lateCommits === 0) noData = node.ejected ? 'ejected' : w.P.jailDurationMs > 0 && m.jailedUntilMs > half ? 'jailed' : 'never-assigned';
    adaptiveOf.set(m, {
      learner: m.learner!.name,
      learnedCheatLevel: m.learner!.levels[m.learner!.best()]!,
      realisedCheatRate: m.lateCommits ? Math.round((m.lateCheats / m.lateCommits) * 1000) / 1000 : null,
      windowCommits: m.lateCommits,
      noData,
      removed,
    });
  }
  const adaptiveReports = [...adaptiveOf.values()];
  const removedReports = adaptiveReports.filter((a) => a.removed !== null);
  const costPerThousand = t.settledCount ? (t.clientSpend * 1000n) / BigInt(t.settledCount) : 0n;
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

  const simMetrics: SimMetrics = {
    masterSeed: run.masterSeed,
    runSeed: w.seed,
    overrides: { ...run.overrides },
    calibration: {
      msPerJob: Object.fromEntries(
        allModels.flatMap((m) => ['fp32', 'fp16', 'int8', 'int4'].map((v) => [`${m}:${v}`, Math.round(computeMs(m, v, 1, w.costOverrides) * 1e6) / 1e6])),
      ),
      costPerCpuSecondMicro: w.costPerCpuSec,
      downgradeMismatchRate: w.downgradeMismatch,
      honestDivergenceRate: w.divergence,
    },
    virtualMs: duration,
    events: t.events,
    applied: t.applied,
    rejected: t.rejected,
    throttled: t.throttled,
    cheatRate: round(t.commits ? t.cheatedCommits / t.commits : 0)!,
    adaptiveCheatRate: lateCommits ? round(lateCheats / lateCommits) : null,
    adaptiveLearnedLevel: adaptiveMiners.length
      ? round(adaptiveMiners.reduce((a, m) => a + m.learner!.levels[m.learner!.best()]!, 0) / adaptiveMiners.length)
      : null,
    adaptiveRemoved: adaptiveMiners.length ? removedReports.length : null,
    adaptiveRemovedLearnedLevel: removedReports.length ? round(removedReports.reduce((a, r) => a + r.learnedCheatLevel, 0) / removedReports.length) : null,
    adaptiveNoData: adaptiveMiners.length
      ? {
          jailed: adaptiveReports.filter((a) => a.noData === 'jailed').length,
          ejected: adaptiveReports.filter((a) => a.noData === 'ejected').length,
          'never-assigned': adaptiveReports.filter((a) => a.noData === 'never-assigned').length,
        }
      : null,
    honestDisputesOnCheats: t.honestDisputesOnCheats,
    honestAuditorsOutvoted: t.honestAuditorsOutvoted,
    honestAuditorOutvotedRate: t.honestDisputesOnCheats ? round(t.honestAuditorsOutvoted / t.honestDisputesOnCheats) : null,
    disputeEscalations: t.disputeEscalations,
    ...disputeMetrics(w),
    detectionRate: t.cheatedCommits ? round(t.cheatedSlashed / t.cheatedCommits) : null,
    detectionLatencyMs: t.cheatedSlashed ? round(t.detectionSum / t.cheatedSlashed) : null,
    honestProfitMicro: round(honestG.profit),
    cheaterProfitMicro: round(cheatG.profit),
    adaptiveProfitMicro: round(adaptG.profit),
    honestProfitPerJobMicro: round(honestG.perJob),
    cheaterProfitPerJobMicro: round(cheatG.perJob),
    adaptiveProfitPerJobMicro: round(adaptG.perJob),
    falseSlashes: t.falseSlashes,
    validatorSlashes: t.validatorSlashes,
    minerComputeMicro: round(miners.reduce((a, m) => a + m.computeMicro, 0))!,
    validatorComputeMicro: round(validators.reduce((a, v) => a + v.computeMicro, 0))!,
    validatorProfitMicro: validators.length ? round(validators.reduce((a, v) => a + Number(heldBy(v.address) - v.funded) - v.computeMicro, 0) / validators.length) : null,
    costPerThousandMicro: Number(costPerThousand),
    successRate: round(finished ? stats.settled / finished : 0)!,
    throughputPerSec: round((finished / duration) * 1000)!,
  };

  return {
    kind: 'sim',
    version: 1,
    seed: w.seed,
    scenario: scenario.name,
    params: paramsToJson(w.P),
    durationMs: duration,
    jobs: {
      submitted: stats.submitted,
      settled: stats.settled,
      failed: stats.failed,
      reassigned: stats.reassigned,
      audited: stats.audited,
      disputed: stats.disputed,
      slashed: stats.minerSlashes + stats.validatorSlashes,
    },
    latencyMs: { p50: round(percentile(t.latRes, 50))!, p95: round(percentile(t.latRes, 95))!, p99: round(percentile(t.latRes, 99))! },
    ttftMs: { p50: round(percentile(t.ttftRes, 50))!, p95: round(percentile(t.ttftRes, 95))! },
    successRate: simMetrics.successRate,
    costPerThousandMicro: costPerThousand.toString(),
    costToken: jobToken(w.P),
    miners: miners.flatMap((m) => [...m.past, { address: m.address, stakeStart: m.stakeStart }].map((ident, gen) => {
      const node = state.nodes.get(ident.address)!;
      return {
        id: gen === 0 ? m.id : `${m.id}#${gen}`,
        address: ident.address,
        strategy: m.strategy,
        region: m.region,
        jobs: node.jobsAssigned,
        settled: node.jobsSettled,
        missed: node.jobsMissed,
        earnedMicro: node.earnedMicro.toString(),
        slashedMicro: node.slashedMicro.toString(),
        stakeStartMicro: ident.stakeStart.toString(),
        stakeEndMicro: node.stakeMicro.toString(),
        ...(gen === m.past.length && adaptiveOf.has(m) ? { adaptive: adaptiveOf.get(m)! } : {}),
      };
    })),
    validators: validators.map((v) => {
      const node = state.nodes.get(v.address)!;
      return { id: v.id, address: v.address, strategy: v.strategy, audits: node.audits, earnedMicro: node.earnedMicro.toString(), slashedMicro: node.slashedMicro.toString() };
    }),
    ledger: {
      mintedMicro: totals.mintedMicro.toString(),
      balancesMicro: totals.balancesMicro.toString(),
      escrowMicro: totals.escrowMicro.toString(),
      stakesMicro: totals.stakesMicro.toString(),
      unbondingMicro: totals.unbondingMicro.toString(),
      feesMicro: totals.feesMicro.toString(),
      burnedMicro: totals.burnedMicro.toString(),
      conserved: totals.conserved,
    },
    invariants: { checks: t.invariantChecks, violations: t.violations },
    slashes: t.slashes,
    series: run.series,
    samples: { latencyMs: t.latRes.slice(0, SIM_DEFAULTS.reportSamples).map((x) => round(x)!), ttftMs: t.ttftRes.slice(0, SIM_DEFAULTS.reportSamples).map((x) => round(x)!) },
    regions: t.regions,
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, infermarket: VERSION },
    sim: simMetrics,
    resolved: run.resolved,
    truth: w.truth.report({ auditRate: w.P.auditRate, audits: { drawn: stats.audited, missed: stats.auditsMissed, reassigned: stats.auditsReassigned, unavailable: stats.auditsUnavailable } }),
  };
}

/** Dispute compute, rounds and latency per resolved dispute (sim-bisection.ts measures both dispute modes). */
function disputeMetrics(w: SimWorld): { disputesResolved: number; disputeRefereeCpuMs: number | null; disputeRounds: number | null; disputeLatencyMs: number | null } {
  const d = disputeTally(w);
  const per = (x: number) => (d.resolved ? Math.round((x / d.resolved) * 1000) / 1000 : null);
  return { disputesResolved: d.resolved, disputeRefereeCpuMs: per(d.refereeCpuMs), disputeRounds: per(d.rounds), disputeLatencyMs: per(d.latencyMs) };
}
