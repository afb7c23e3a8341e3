/**
 * What an outcome costs an adaptive miner, in one place for both drivers (the live miner and the
 * simulator give the same data). Amounts in micro-mUSD, times in ms.
 */

/** What became of one job an adaptive miner played, as the market reported it. */
export interface JobOutcome {
  /** `settled`: paid; `missed`: its deadline passed (penalty); `slashed`: an audit or dispute found it wrong. */
  kind: 'settled' | 'missed' | 'slashed';
  /** What the job paid the miner (settled jobs; 0 otherwise — a slashed job forfeits its pay). */
  paidMicro: number;
  /** Stake slashed for the job (0 unless slashed). */
  slashedMicro: number;
  /** Missed-deadline penalty (the full `missPenaltyBps` of its stake the rules took; 0 unless missed). */
  penaltyMicro: number;
  /** Whether the miner was jailed by it (a slash jails). */
  jailed: boolean;
  /** Compute the miner spent on the job (its own cost model; 0 when it did not run the model). */
  costMicro: number;
  /** When the outcome became known, on the driver's clock (virtual ms in the simulator, wall ms live). */
  atMs?: number;
  /** How long the slash keeps it from taking work: the jail (`jailDurationMs`). 0 when not jailed. */
  jailMs?: number;
  /** Whether the slash ejected it (its identity is spent; it must join again under a new one). */
  ejected?: boolean;
  /** Capital it must post again to be back at its target stake: the slashed stake, the whole stake after an ejection. */
  restakeMicro?: number;
}

/**
 * The realised profit of an outcome: paid − slashed − penalty − compute. A missed deadline teaches
 * minus the full penalty, live and simulated alike. The learners are charged more (`createCostAccount`).
 */
export function rewardOf(o: JobOutcome): number {
  return o.paidMicro - o.slashedMicro - o.penaltyMicro - o.costMicro;
}

/** Outcome helpers, so callers build complete outcomes. `extra` carries the time, jail, ejection and restake of a slash. */
export const outcome = Object.freeze({
  settled: (paidMicro: number, costMicro: number, extra: Partial<JobOutcome> = {}): JobOutcome => ({ kind: 'settled', paidMicro, slashedMicro: 0, penaltyMicro: 0, jailed: false, costMicro, ...extra }),
  missed: (penaltyMicro: number, costMicro: number, extra: Partial<JobOutcome> = {}): JobOutcome => ({ kind: 'missed', paidMicro: 0, slashedMicro: 0, penaltyMicro, jailed: false, costMicro, ...extra }),
  slashed: (slashedMicro: number, costMicro: number, extra: Partial<JobOutcome> = {}): JobOutcome => ({
    kind: 'slashed',
    paidMicro: 0,
    slashedMicro,
    penaltyMicro: 0,
    jailed: true,
    costMicro,
    restakeMicro: slashedMicro,
    ...extra,
  }),
});

/** The full cost of one outcome, as charged to a learner. */
export interface Charge {
  /** What the learner learns: realised profit − lost work while jailed − restaking cost. */
  rewardMicro: number;
  /** paid − slashed − penalty − compute (`rewardOf`). */
  realisedMicro: number;
  /** The work it could not take while jailed: its rate of paid jobs × its mean margin × the jail. */
  opportunityMicro: number;
  /** Capital it must post again × `restakeCostBps`. */
  restakeMicro: number;
}

/** Charges outcomes their full cost; keeps the miner's own rate of paid work and margin, from its outcomes. */
export interface CostAccount {
  charge(o: JobOutcome): Charge;
  /** Paid jobs per ms of time not jailed, and mean margin (paid − compute) per paid job, so far. */
  rate(): { jobsPerMs: number; marginMicro: number };
}

/**
 * A cost account. The opportunity cost of a jail is estimated from the miner's own history: paid jobs
 * per ms between its first and latest outcome (minus time spent jailed) × its mean margin (≥ 0) × the
 * jail. Restaking is charged at `restakeCostBps` of the capital posted again (0 by default: the slash
 * itself is already charged, and re-bonding moves the miner's own balance into stake).
 * @example const acct = createCostAccount({ restakeCostBps: 0 }); acct.charge(outcome.settled(10_000, 250, { atMs: 5 }));
 */
export function createCostAccount(opts: { restakeCostBps: number }): CostAccount {
  let firstAt: number | null = null;
  let lastAt = 0;
  let jailedMs = 0;
  let paid = 0;
  let marginSum = 0;
  const rate = (): { jobsPerMs: number; marginMicro: number } => {
    const span = lastAt - (firstAt ?? lastAt) - jailedMs;
    return { jobsPerMs: paid >= 2 && span > 0 ? paid / span : 0, marginMicro: paid ? Math.max(0, marginSum / paid) : 0 };
  };
  return {
    rate,
    charge(o) {
      const realisedMicro = rewardOf(o);
      const jail = o.jailed ? Math.max(0, o.jailMs ?? 0) : 0;
      const r = rate();
      const opportunityMicro = r.jobsPerMs * r.marginMicro * jail;
      const restakeMicro = (Math.max(0, o.restakeMicro ?? 0) * opts.restakeCostBps) / 10_000;
      if (o.atMs !== undefined) {
        if (firstAt === null) firstAt = o.atMs;
        if (o.atMs > lastAt) lastAt = o.atMs;
      }
      jailedMs += jail;
      if (o.kind === 'settled') {
        paid++;
        marginSum += o.paidMicro - o.costMicro;
      }
      return { rewardMicro: realisedMicro - opportunityMicro - restakeMicro, realisedMicro, opportunityMicro, restakeMicro };
    },
  };
}
