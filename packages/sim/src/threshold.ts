import { bpsOf, deterrenceThreshold, SCENARIO_DEFAULTS, resolveParams, type DeterrenceThreshold, type MinerGroup, type Params, type Scenario } from '@infermarket/protocol';
import { computeCostMicro, computeMs, DEFAULT_MAX_TOKENS } from './cost-model.js';
import { applyOverrides } from './overrides.js';
import { SIM_DEFAULTS } from './sim-defaults.js';

/** Options of `scenarioThreshold`. */
export interface ScenarioThresholdOptions {
  /** Named overrides applied first (as `--set` / a sweep point). */
  overrides?: Readonly<Record<string, string | number | boolean>>;
  /** Chance an audit goes unanswered within `auditWindowMs` (default 0: the simulator's validators always answer in time). */
  auditTimeoutRate?: number;
  /** Further auditors drawn after a timeout (default 0: today's rules let the job go on unaudited). */
  auditReassignments?: number;
}

/** The threshold for one kind of miner in the scenario, with where each input came from. */
export interface ScenarioThresholdRow {
  /** Miner instances this row applies to (same group, model and number of colluding validators). */
  miners: string[];
  strategy: string;
  model: string;
  variant: string;
  /** How each input was derived, in words (for the table and the study). */
  sources: { computeCostMicro: string; rewardMicro: string; slashMicro: string; validators: string };
  threshold: DeterrenceThreshold;
}

export interface ScenarioThreshold {
  scenario: string;
  overrides: Record<string, string | number | boolean>;
  /** The protocol parameters that enter the threshold. */
  params: Pick<Params, 'auditRate' | 'slashFractionBps' | 'disputeQuorum' | 'jailDurationMs' | 'maxSlashes' | 'missPenaltyBps' | 'matchingPolicy' | 'matchingMode'>;
  rows: ScenarioThresholdRow[];
  /** What the one-shot threshold leaves out for this scenario (jail, ejection, lazy validators…). */
  notes: string[];
}

/** Strategies whose cheat is a skipped execution (a wrong output that costs nothing to make). */
const SKIPPING = new Set(['adaptive', 'lazy', 'replay']);

/** The price a miner's bids default to: the scenario resolver's one default (`SCENARIO_DEFAULTS`), as the simulator and the testnet bid. */
function defaultPrice(model: string): number {
  return Number(SCENARIO_DEFAULTS.minerPriceMicroByModel[model] ?? SCENARIO_DEFAULTS.minerPriceMicroOtherModel);
}

function groupPrice(g: MinerGroup, model: string): number {
  const spec = g.pricing?.priceMicro;
  const p = typeof spec === 'string' ? spec : spec?.[model];
  return Number(p ?? defaultPrice(model));
}

interface Bidder {
  lo: number;
  hi: number;
  count: number;
}

/** P(a bid from `b` is above x) (a point mass counts half at equality: a coin-flip tie). */
function survival(b: Bidder, x: number): number {
  if (b.hi === b.lo) return x < b.lo ? 1 : x === b.lo ? 0.5 : 0;
  if (x <= b.lo) return 1;
  if (x >= b.hi) return 0;
  return (b.hi - x) / (b.hi - b.lo);
}

/**
 * Expected price a miner is paid when it wins a lowest-price auction: E[own bid | own bid is lowest], bids
 * uniform on price·(1 ± spread). Numerical integration over the miner's own bid range.
 */
function expectedWinningPrice(own: Bidder, bidders: Bidder[]): number {
  if (own.hi === own.lo) return own.lo;
  const steps = 4000;
  let num = 0;
  let den = 0;
  for (let i = 0; i < steps; i++) {
    const x = own.lo + ((i + 0.5) / steps) * (own.hi - own.lo);
    let w = 1;
    for (const b of bidders) w *= survival(b, x) ** (b === own ? b.count - 1 : b.count);
    num += x * w;
    den += w;
  }
  return den > 0 ? num / den : (own.lo + own.hi) / 2;
}

/**
 * The protocol's analytic deterrence threshold for a scenario, from the same inputs the simulator uses:
 * C from the simulator's cost model (`cost-model.ts`, with the scenario's `sim.computeMsPerJob` and
 * `sim.costPerCpuSecondMicro`), R the expected winning price, S = `slashFractionBps` of the miner's stake,
 * the validators that can audit the model and those colluding with each miner, `disputeQuorum` and
 * `sim.honestDivergenceRate`. One row per cheating-capable group (the `adaptive` groups when there are any)
 * and model. Pure.
 * @throws InfermarketError `ERR_BAD_SCENARIO` for a bad override, `ERR_INVALID_PARAM` for bad params.
 */
export function scenarioThreshold(input: Scenario, options: ScenarioThresholdOptions = {}): ScenarioThreshold {
  const overrides = { ...(options.overrides ?? {}) };
  const scenario = Object.keys(overrides).length ? applyOverrides(input, overrides) : input;
  const P = resolveParams(scenario.params ?? {});
  const sim = scenario.sim ?? {};
  const costPerCpuSec = Number(sim.costPerCpuSecondMicro ?? SIM_DEFAULTS.costPerCpuSecondMicro);
  const divergence = sim.honestDivergenceRate ?? SIM_DEFAULTS.honestDivergenceRate;

  // the model set as the simulator builds it
  const modelSet = new Set<string>();
  for (const c of scenario.clients) for (const [m, w] of Object.entries(c.models)) if (w > 0) modelSet.add(m);
  for (const g of scenario.miners) for (const m of g.models ?? []) modelSet.add(m);
  for (const g of scenario.validators) for (const m of g.models ?? []) modelSet.add(m);
  const allModels = [...modelSet].sort();
  const requested = new Set<string>();
  for (const c of scenario.clients) for (const [m, w] of Object.entries(c.models)) if (w > 0 && c.ratePerSec > 0) requested.add(m);

  const notes: string[] = [];
  const adaptive = scenario.miners.some((g) => g.strategy === 'adaptive');
  const targets = scenario.miners.filter((g) => (adaptive ? g.strategy === 'adaptive' : SKIPPING.has(g.strategy) || g.strategy === 'honest'));
  const skipped = adaptive ? [] : scenario.miners.filter((g) => !targets.includes(g));
  for (const g of skipped) notes.push(`group ${g.name ?? g.strategy} (${g.strategy}) is left out: its cheat is not a skipped execution`);

  const validatorStake = (g: Scenario['validators'][number]): bigint => {
    const target = g.stakeMicro !== undefined ? BigInt(g.stakeMicro) : P.minValidatorStakeMicro;
    const fund = P.faucetCapMicro < target * 2n ? P.faucetCapMicro : target * 2n;
    return target < fund ? target : fund;
  };
  const lazyValidators = scenario.validators.filter((g) => g.strategy === 'lazy').reduce((a, g) => a + g.count, 0);
  if (lazyValidators > 0) notes.push(`${lazyValidators} lazy validator(s) are counted as honest auditors and referees; the simulator's lazy referees do not vote`);

  const rows: ScenarioThresholdRow[] = [];
  for (const g of targets) {
    const name = g.name ?? g.strategy;
    const variant = g.variant ?? 'int8';
    const models = (g.models ?? allModels).filter((m) => requested.has(m));
    const stakeTarget = g.stakeMicro !== undefined ? BigInt(g.stakeMicro) : P.minMinerStakeMicro;
    const fund = P.faucetCapMicro < stakeTarget * 10n ? P.faucetCapMicro : stakeTarget * 10n;
    const stake = stakeTarget < fund ? stakeTarget : fund;
    const S = Number(bpsOf(stake, P.slashFractionBps));
    for (const model of models) {
      // C: what skipping saves, averaged over the clients' job mix (tokens matter for per-token models)
      let wSum = 0;
      let cSum = 0;
      let msShown = 0;
      for (const c of scenario.clients) {
        const entries = Object.entries(c.models).filter(([, w]) => w > 0);
        const total = entries.reduce((a, [, w]) => a + w, 0);
        const w = c.count * c.ratePerSec * ((c.models[model] ?? 0) / (total || 1));
        if (w <= 0) continue;
        const ms = computeMs(model, variant, model === 'charlm' ? (c.maxTokens ?? DEFAULT_MAX_TOKENS) : 0, sim.computeMsPerJob);
        msShown = ms;
        cSum += w * computeCostMicro(ms, costPerCpuSec);
        wSum += w;
      }
      const C = wSum > 0 ? cSum / wSum : 0;
      // R: the price this group is paid when it wins
      const bidders: Bidder[] = [];
      let own: Bidder | null = null;
      for (const h of scenario.miners) {
        if (!(h.models ?? allModels).includes(model) || h.count <= 0) continue;
        const price = groupPrice(h, model);
        const s = (h.pricing?.spreadBps ?? 0) / 10_000;
        const b = { lo: price * (1 - s), hi: price * (1 + s), count: h.count };
        bidders.push(b);
        if (h === g) own = b;
      }
      const price = groupPrice(g, model);
      // standing offers: a miner is paid its own offer's price (the group's price on average), whoever else offers
      const auctionLowest = P.matchingMode === 'auction' && P.matchingPolicy === 'lowest-price';
      const R = auctionLowest && own ? expectedWinningPrice(own, bidders) : price;
      const nBidders = bidders.reduce((a, b) => a + b.count, 0);
      const rSource =
        auctionLowest
          ? `E[winning bid] of ${nBidders} bidders, price ${price} ± ${(g.pricing?.spreadBps ?? 0) / 100} %, lowest price wins`
          : P.matchingMode === 'offers'
            ? `the group's price ${price} (standing offers: a miner is paid its own offer's price)`
            : `the group's price ${price} (matching ${P.matchingPolicy})`;
      // validators that can audit this model, and per miner instance those colluding with it
      const vGroups = scenario.validators.filter((v) => (v.models ?? allModels).includes(model) && validatorStake(v) >= P.minValidatorStakeMicro);
      const n = vGroups.reduce((a, v) => a + v.count, 0);
      const byK = new Map<number, string[]>();
      for (let i = 0; i < g.count; i++) {
        const id = `${name}-${i}`;
        const k = vGroups.filter((v) => v.strategy === 'colluding' && (v.colludeWith ?? []).includes(id)).reduce((a, v) => a + v.count, 0);
        const list = byK.get(k);
        if (list) list.push(id);
        else byK.set(k, [id]);
      }
      for (const [k, ids] of [...byK.entries()].sort((a, b) => a[0] - b[0])) {
        const threshold = deterrenceThreshold({
          computeCostMicro: C,
          rewardMicro: R,
          slashMicro: S,
          validators: n,
          colludingValidators: k,
          disputeQuorum: P.disputeQuorum,
          auditTimeoutRate: options.auditTimeoutRate ?? 0,
          // a silent or missed audit goes to the next validator, up to maxAuditAttempts auditors in all; a colluder
          // that vouches (`sim.colludersVouch`) answers its partner's audit with a match, so nothing is reassigned
          auditReassignments: options.auditReassignments ?? (sim.colludersVouch && k > 0 ? 0 : Math.max(0, P.maxAuditAttempts - 1)),
          // vouching colluders also vote for their partner in a dispute; the agents' colluding strategy is otherwise silent
          colludingRefereesVote: sim.colludersVouch ? 'with-miner' : 'silent',
          honestDivergenceRate: divergence,
          auditRate: P.auditRate,
        });
        rows.push({
          miners: ids,
          strategy: g.strategy,
          model,
          variant,
          sources: {
            computeCostMicro: `${model}:${variant} ${Number(msShown.toPrecision(6))} CPU-ms${model === 'charlm' ? ' (per job at the clients\' tokens)' : ''} × ${costPerCpuSec} micro per CPU-second`,
            rewardMicro: rSource,
            slashMicro: `slashFractionBps ${P.slashFractionBps} × stake ${stake} (restaked after each slash)`,
            validators: `${n} validators serve ${model} with stake ≥ ${P.minValidatorStakeMicro}; ${k} collude with ${ids.length === 1 ? ids[0] : `each of ${ids.length} miners`}`,
          },
          threshold,
        });
      }
    }
  }
  if (P.jailDurationMs > 0) notes.push(`jailDurationMs ${P.jailDurationMs}: a slashed miner also loses the work it cannot take while jailed; not in p* (it lowers the real threshold)`);
  if (!sim.rejoinEjected && P.maxSlashes < 100) notes.push(`maxSlashes ${P.maxSlashes}: a miner is ejected for good after that many slashes; not in p* (the one-shot game has no future)`);
  if (P.matchingPolicy === 'lowest-price') notes.push('reputation breaks ties between equal bids; a slash lowers reputation (not in p*)');
  notes.push('challenges outside audits: the rules allow them, the simulated validators never make them (not in p*)');
  return {
    scenario: scenario.name,
    overrides,
    params: {
      auditRate: P.auditRate,
      slashFractionBps: P.slashFractionBps,
      disputeQuorum: P.disputeQuorum,
      jailDurationMs: P.jailDurationMs,
      maxSlashes: P.maxSlashes,
      missPenaltyBps: P.missPenaltyBps,
      matchingPolicy: P.matchingPolicy,
      matchingMode: P.matchingMode,
    },
    rows,
    notes,
  };
}
