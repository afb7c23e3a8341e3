import { InfermarketError } from './errors.js';

/**
 * The audit rate above which cheating stops paying, derived from this protocol's own rules
 * (`jobs.ts` commitResult, `disputes.ts`, `selection.ts`), not from the Proof-of-Sampling paper's model.
 *
 * One job, one miner choosing between running the model (cost C, reward R) and skipping it (a lazy
 * result). The rules that decide whether a skipped job is caught:
 * - the job is audited with probability `auditRate` (H(seed ‖ jobId) < auditRate, drawn after the commit);
 * - the auditor is the first of the eligible validators in a seeded shuffle: a uniform draw of one of the
 *   `validators`, of which `colludingValidators` never report this miner (the agents' `colluding` strategy
 *   stays silent on a partner's audit, so the audit times out);
 * - an audit that is not answered within `auditWindowMs` times out and the job goes on unaudited
 *   (`auditTimeoutRate`; `auditReassignments` further auditors drawn after a timeout, 0 in today's rules);
 * - a mismatch opens a dispute: `min(disputeQuorum, validators − 1)` referees, a uniform draw without
 *   replacement from the validators other than the accuser (hypergeometric); the accuser counts as one vote
 *   against the miner; a side with `floor((referees + 1) / 2) + 1` votes wins; at the window's end more
 *   votes against than for slashes, more for slashes the accuser, a tie slashes nobody and pays the miner.
 *   Colluding referees stay silent (the agents' `colluding` strategy: a referee never sees the miner's
 *   output before its own report, so it cannot vouch for it); with `colludingRefereesVote: 'with-miner'`
 *   they vote "miner correct" (a stronger adversary with an out-of-band channel to its partner). Honest
 *   referees re-execute and vote against a skipped result. Silence is no vote, so silent colluders cannot
 *   keep a cheat from being slashed (the accuser's vote wins when the window closes); they only delay it.
 *   Voting colluders shield it when their votes tie or outnumber the accuser's side.
 * - honest divergence (`honestDivergenceRate`, the chance an honest re-execution fails the comparator)
 *   can also get an honest result slashed: that false-positive risk is a cost of honesty, so it lowers the
 *   deterrent.
 *
 * Payoffs per job (caught = slashed S and the reward R forfeited; the job fails unpaid):
 *   honest = R − C − p·answered·falsePositive·(R + S)
 *   cheat  = R − p·answered·detection·(R + S)
 * Honesty pays strictly more iff p > p\* = C / (answered · (detection − falsePositive) · (R + S)).
 * With no collusion, no timeouts and no divergence this is PoSP's C / (R + S).
 */
export interface DeterrenceInputs {
  /** C: compute a cheater saves per job, micro-mUSD. */
  computeCostMicro: number;
  /** R: what the miner is paid for the job (the winning price), micro-mUSD. */
  rewardMicro: number;
  /** S: what one slash takes from the miner (`slashFractionBps` of its slashable stake), micro-mUSD. */
  slashMicro: number;
  /** Further loss when caught that the one-shot game leaves out (e.g. a modelled jail cost); default 0. */
  extraLossWhenCaughtMicro?: number;
  /** Eligible validators for the job's model (auditor and referees are drawn from them). */
  validators: number;
  /** Of those, validators that collude with this miner (never report it, vote for it). */
  colludingValidators: number;
  /** `disputeQuorum`: referees asked to re-execute a disputed job. */
  disputeQuorum: number;
  /** What colluding referees do in a dispute on their partner's job: `silent` (default, what the agents' `colluding` strategy does) or `with-miner` (vote "miner correct"). */
  colludingRefereesVote?: 'silent' | 'with-miner';
  /** Chance an audit goes unanswered within `auditWindowMs` (the job then goes on unaudited); default 0. */
  auditTimeoutRate?: number;
  /** Further auditors drawn after a timeout (each a fresh uniform draw that may time out again); default 0, today's rules. */
  auditReassignments?: number;
  /** Chance an honest re-execution disagrees with an honest output under the comparator; default 0. */
  honestDivergenceRate?: number;
  /** An audit rate at which to evaluate both payoffs (optional). */
  auditRate?: number;
}

/** Every term of the threshold, named. Probabilities are per job and conditional where the name says so. */
export interface DeterrenceTerms {
  computeCostMicro: number;
  rewardMicro: number;
  slashMicro: number;
  extraLossWhenCaughtMicro: number;
  /** R + S + extra: what a caught cheat loses against an uncaught one. */
  lossWhenCaughtMicro: number;
  validators: number;
  colludingValidators: number;
  /** r = colludingValidators / validators. */
  colludingShare: number;
  /** Referees actually drawn: min(disputeQuorum, validators − 1). */
  referees: number;
  /** Votes a side needs to win at once: floor((referees + 1) / 2) + 1 (the accuser's vote included). */
  majority: number;
  /** P(the first auditor drawn colludes) = r. */
  auditorColludes: number;
  /**
   * P(an honest validator gets the audit) within the 1 + `auditReassignments` auditors drawn: colluding
   * auditors stay silent and the rules hand a missed audit to the next validator, so only a run of colluders
   * keeps it from an honest one: 1 − C(k, A)/C(n, A). With no reassignment this is 1 − r.
   */
  honestAuditorReached: number;
  /** P(the colluding referees keep a cheat from being slashed | an honest auditor disputes it): votes for the miner ≥ votes against; 0 when colluders are silent. */
  refereesShieldCheat: number;
  /** P(a skipped result is slashed | audited and answered) = honestAuditorReached·(1 − refereesShieldCheat). */
  detectionGivenAudit: number;
  /** P(the honest auditor is outvoted and slashed | a skipped result audited and answered). */
  honestAuditorOutvoted: number;
  /** P(an audit is answered) = 1 − auditTimeoutRate^(1 + auditReassignments). */
  auditAnswered: number;
  auditTimeoutRate: number;
  auditReassignments: number;
  honestDivergenceRate: number;
  /** P(an honest result is slashed | audited and answered). */
  falsePositiveGivenAudit: number;
  /** answered · (detection − falsePositive): what one unit of audit rate buys against cheating. */
  netDetectionGivenAudit: number;
}

/** The result: the terms, p\* (or null with the reason), PoSP's published forms beside it. */
export interface DeterrenceThreshold {
  terms: DeterrenceTerms;
  /** p\* = C / (netDetectionGivenAudit · lossWhenCaught); null when no audit rate deters (see `pStarReason`). */
  pStar: number | null;
  pStarReason: string | null;
  /** p\* ≤ 1: some audit rate makes honesty pay. */
  deterrable: boolean;
  /** PoSP's forms for comparison (r = colludingShare): C/(R+S), C/((1−r)(R+S)), C/((1−r)S + (1−2r)R). */
  posp: { simple: number; withCollusion: number | null; propositionOne: number | null };
  /** Payoffs at `inputs.auditRate`, when given. */
  atAuditRate: { auditRate: number; detection: number; honestPayoffMicro: number; cheatPayoffMicro: number; cheatingPays: boolean } | null;
}

function bad(field: string, message: string): never {
  throw new InfermarketError('ERR_VALIDATION', `"${field}" ${message}`, { details: { field } });
}

function finiteAtLeast(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(field, `must be a finite number ≥ ${min}, got ${String(v)}`);
  return v;
}

function probability(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) bad(field, `must be a probability in [0, 1], got ${String(v)}`);
  return v;
}

function count(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, `must be a non-negative integer, got ${String(v)}`);
  return v;
}

/** C(n, k) as a float (exact for the small counts used here). */
export function binomialCoefficient(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i;
  return r;
}

/** P(X = x) for X ~ Hypergeometric(population, successes, draws): x of the drawn are successes. */
export function hypergeometricPmf(population: number, successes: number, draws: number, x: number): number {
  const denom = binomialCoefficient(population, draws);
  return denom === 0 ? 0 : (binomialCoefficient(successes, x) * binomialCoefficient(population - successes, draws - x)) / denom;
}


/**
 * The protocol's deterrence threshold from its rules, with every term named. Pure.
 * @throws InfermarketError `ERR_VALIDATION` naming the input that is out of range.
 * @example deterrenceThreshold({ computeCostMicro: 312, rewardMicro: 992, slashMicro: 1000, validators: 10, colludingValidators: 3, disputeQuorum: 2 }).pStar
 */
export function deterrenceThreshold(inputs: DeterrenceInputs): DeterrenceThreshold {
  const C = finiteAtLeast('computeCostMicro', inputs.computeCostMicro, 0);
  const R = finiteAtLeast('rewardMicro', inputs.rewardMicro, 0);
  const S = finiteAtLeast('slashMicro', inputs.slashMicro, 0);
  const extra = finiteAtLeast('extraLossWhenCaughtMicro', inputs.extraLossWhenCaughtMicro ?? 0, 0);
  const n = count('validators', inputs.validators);
  const k = count('colludingValidators', inputs.colludingValidators);
  if (k > n) bad('colludingValidators', `must not exceed "validators" (${n}), got ${k}`);
  const quorum = count('disputeQuorum', inputs.disputeQuorum);
  const tau = probability('auditTimeoutRate', inputs.auditTimeoutRate ?? 0);
  const reassign = count('auditReassignments', inputs.auditReassignments ?? 0);
  const d = probability('honestDivergenceRate', inputs.honestDivergenceRate ?? 0);
  const auditRate = inputs.auditRate === undefined ? undefined : probability('auditRate', inputs.auditRate);

  const L = R + S + extra;
  const r = n > 0 ? k / n : 0;
  const q = n > 0 ? Math.min(quorum, n - 1) : 0;
  const majority = Math.floor((q + 1) / 2) + 1;
  const withMiner = (inputs.colludingRefereesVote ?? 'silent') === 'with-miner';
  // the referees are drawn from the n − 1 validators other than the (honest) accuser, k of them colluding
  let shield = 0;
  let outvoted = 0;
  let fpGivenDispute = 0;
  for (let c = 0; c <= q; c++) {
    const pc = hypergeometricPmf(n - 1, k, q, c);
    if (pc === 0) continue;
    const honest = q - c;
    // against a skipped result every honest referee votes against and the accuser adds one; colluders vote for
    // their partner only `with-miner`. Silence is no vote: if no majority forms at once, the window's close
    // decides by the votes cast (more against than for slashes, a tie pays the miner), so silent colluders
    // only delay the slash. The cheat escapes iff votes for ≥ votes against.
    const forMiner = withMiner ? c : 0;
    if (forMiner >= 1 + honest) shield += pc;
    // the honest auditor is slashed for a false accusation iff more vote for the miner than against it
    if (forMiner > 1 + honest) outvoted += pc;
    // an honest result: x of the honest referees diverge too and vote against with the accuser, the others vote
    // for the miner (with its partners when they vote); more against than for slashes it
    for (let x = 0; x <= honest; x++) if (1 + x > honest - x + forMiner) fpGivenDispute += pc * binomialCoefficient(honest, x) * d ** x * (1 - d) ** (honest - x);
  }
  // colluding auditors are silent; each missed audit goes to a fresh validator (drawn without replacement)
  const attempts = Math.min(1 + reassign, n);
  const auditorHonest = n > 0 ? 1 - binomialCoefficient(k, attempts) / binomialCoefficient(n, attempts) : 0;
  const detection = auditorHonest * (1 - shield);
  const honestAuditorOutvoted = auditorHonest * outvoted;
  const falsePositive = auditorHonest * d * fpGivenDispute;
  const answered = 1 - tau ** (1 + reassign);
  const net = answered * (detection - falsePositive);

  const terms: DeterrenceTerms = {
    computeCostMicro: C,
    rewardMicro: R,
    slashMicro: S,
    extraLossWhenCaughtMicro: extra,
    lossWhenCaughtMicro: L,
    validators: n,
    colludingValidators: k,
    colludingShare: r,
    referees: q,
    majority,
    auditorColludes: r,
    honestAuditorReached: auditorHonest,
    refereesShieldCheat: shield,
    detectionGivenAudit: detection,
    honestAuditorOutvoted,
    auditAnswered: answered,
    auditTimeoutRate: tau,
    auditReassignments: reassign,
    honestDivergenceRate: d,
    falsePositiveGivenAudit: falsePositive,
    netDetectionGivenAudit: net,
  };

  let pStar: number | null = null;
  let reason: string | null = null;
  if (C === 0) pStar = 0;
  else if (n === 0) reason = 'no eligible validator: nothing is ever audited';
  else if (L === 0) reason = 'a caught cheat loses nothing (R + S = 0)';
  else if (net <= 0) reason = `an audit is no more likely to slash a cheat than an honest miner (detection ${detection.toPrecision(4)}, false positive ${falsePositive.toPrecision(4)}, answered ${answered.toPrecision(4)})`;
  else pStar = C / (net * L);

  const denomColl = (1 - r) * (R + S);
  const denomProp = (1 - r) * S + (1 - 2 * r) * R;
  const posp = {
    simple: R + S > 0 ? C / (R + S) : Number.POSITIVE_INFINITY,
    withCollusion: denomColl > 0 ? C / denomColl : null,
    propositionOne: denomProp > 0 ? C / denomProp : null,
  };

  let atAuditRate: DeterrenceThreshold['atAuditRate'] = null;
  if (auditRate !== undefined) {
    const honestPayoff = R - C - auditRate * answered * falsePositive * L;
    const cheatPayoff = R - auditRate * answered * detection * L;
    atAuditRate = {
      auditRate,
      detection: auditRate * answered * detection,
      honestPayoffMicro: honestPayoff,
      cheatPayoffMicro: cheatPayoff,
      cheatingPays: cheatPayoff > honestPayoff,
    };
  }
  return { terms, pStar, pStarReason: reason, deterrable: pStar !== null && pStar <= 1, posp, atAuditRate };
}
