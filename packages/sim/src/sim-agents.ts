import { clientMaxPriceMicro, hashHex, InfermarketError, worstCaseCost, type MarketEvent, type ResolvedScenario, type Scenario } from '@infermarket/protocol';
import { builtinMinerStrategy, builtinValidatorStrategy, createMinerStrategy, createValidatorStrategy, injectedDelay, isStrategyModulePath, offerPrices, outcome, type JobOutcome, type PublicRules, type StrategyModule } from '@infermarket/agents';
import { scenarioThreshold } from './threshold.js';
import { computeCostMicro, computeMs } from './cost-model.js';
import { createRng } from './rng.js';
import { hashOf, netDelay, refereeStance, signedBy, type ClientAgent, type MinerAgent, type OutClass, type SimJob, type SimWorld, type ValidatorAgent } from './sim-world.js';
import { noteQuorumVote, traceFields } from './sim-bisection.js';

/**
 * The simulator's agent adapters: they build the modelled miners, validators and clients of a
 * scenario and turn the protocol's notifications (`job.opened`, `job.assigned`, `audit.requested`,
 * `dispute.opened`, outcomes) into the agents' next messages, queued at virtual times. Every decision
 * (bid price, plan of a job, what a validator reports, what the learner learns) is made by
 * `@infermarket/agents`, the functions the live miner and validator call; what is modelled here is
 * only the physics: compute time and cost, network delay, and outputs as classes instead of tensors.
 */

const constant =
  <T>(v: T): (() => T) =>
  () =>
    v;

/**
 * Per adaptive miner, what the public rules say about its jobs, from the protocol's threshold terms for the
 * scenario (`scenarioThreshold`: the audit rate, P(slashed | audited) with its colluding partners, the slash
 * of its stake, the jail). A miner knows the rules and its own partners; it is not told C, R or p*.
 */
function publicRulesByMiner(scenario: Scenario): Map<string, PublicRules> {
  const th = scenarioThreshold(scenario);
  const out = new Map<string, PublicRules>();
  for (const row of th.rows) {
    const t = row.threshold.terms;
    // a miner serving several models gets the first model's row (the study's miners serve one)
    for (const id of row.miners)
      if (!out.has(id)) out.set(id, { auditRate: th.params.auditRate, slashGivenAudit: t.auditAnswered * t.detectionGivenAudit, slashMicro: t.slashMicro, jailMs: th.params.jailDurationMs });
  }
  return out;
}

/** The scenario's agents, with addresses derived from the run seed. */
export function buildAgents(
  scenario: Scenario,
  ctx: { seed: number; resolved: ResolvedScenario; addressOf: (name: string) => string; strategyModules?: ReadonlyMap<string, StrategyModule> },
): Pick<SimWorld, 'miners' | 'validators' | 'clients' | 'byAddress' | 'validatorsByAddress' | 'byName'> {
  // every node, stake, price, funding and name comes from the scenario resolver: the testnet runs the same plan
  const { seed, resolved, addressOf } = ctx;
  // a group's strategy: a built-in, or a user's module (loaded beforehand by `loadScenarioStrategies`)
  const moduleOf = (path: string, role: 'miner' | 'validator'): StrategyModule => {
    const mod = ctx.strategyModules?.get(path);
    if (!mod || mod.role !== role) throw new InfermarketError('ERR_BAD_STRATEGY', `strategy module ${path} is not loaded as a ${role} strategy; load the scenario's modules with loadScenarioStrategies (from @infermarket/node-runtime) and pass them as runSimulation's strategyModules`, { details: { module: path } });
    return mod;
  };
  const simS = scenario.sim ?? {};
  const adaptive = simS.adaptive;
  // what the public rules tell each adaptive miner (the `bayes` learner's prior): the protocol's own threshold terms
  const rulesOf = adaptive?.learner === 'bayes' ? publicRulesByMiner(scenario) : null;
  const byAddress = new Map<string, MinerAgent>();
  const validatorsByAddress = new Map<string, ValidatorAgent>();
  const miners: MinerAgent[] = [];
  const validators: ValidatorAgent[] = [];
  const clients: ClientAgent[] = [];
  const byName = new Map<string, MinerAgent | ValidatorAgent>();
  for (const r of resolved.miners) {
    const strategyMod = isStrategyModulePath(r.strategy) ? moduleOf(r.strategy, 'miner') : builtinMinerStrategy(r.strategy as Parameters<typeof builtinMinerStrategy>[0]);
    if (strategyMod.role !== 'miner') throw new Error('unreachable');
    const price: Record<string, bigint> = {};
    for (const [m, p] of Object.entries(r.priceMicro)) price[m] = BigInt(p);
    {
      const id = r.name;
      const decide = createMinerStrategy(strategyMod, {
        variant: r.variant,
        // as the testnet passes them: a cheat probability to all but `adaptive` (it learns its own), the delay to `slow`
        ...(r.strategy !== 'adaptive' ? { cheatProbability: r.cheatProbability } : {}),
        ...(r.strategy === 'slow' ? { slowExtraMs: r.slowExtraMs } : {}),
        ...(adaptive !== undefined ? { adaptive } : {}),
        ...(rulesOf?.has(r.name) ? { rules: constant(rulesOf.get(r.name)!) } : {}),
        rng: createRng(seed ^ Math.imul(miners.length + 1, 0x27d4eb2d)),
      });
      const agent: MinerAgent = {
        id,
        address: addressOf(`miner/${id}`),
        strategy: strategyMod.name,
        region: r.region,
        models: r.models,
        variant: r.variant,
        latencyMs: r.latencyMs,
        jitterMs: r.jitterMs,
        slots: new Array<number>(r.concurrency).fill(0),
        decide,
        price,
        spreadBps: r.spreadBps,
        stakeTarget: BigInt(r.stakeMicro),
        fundTarget: BigInt(r.fundMicro),
        funded: 0n,
        past: [],
        online: true,
        incarnation: 0,
        learner: decide.learner ?? null,
        lastOutput: new Map(),
        computeMicro: 0,
        commits: 0,
        cheats: 0,
        lateCommits: 0,
        lateCheats: 0,
        nonce: 0,
        stakeStart: 0n,
        jailedUntilMs: 0,
      };
      miners.push(agent);
      byAddress.set(agent.address, agent);
      byName.set(id, agent);
    }
  }
  for (const r of resolved.validators) {
    const strategyMod = isStrategyModulePath(r.strategy) ? moduleOf(r.strategy, 'validator') : builtinValidatorStrategy(r.strategy as Parameters<typeof builtinValidatorStrategy>[0]);
    if (strategyMod.role !== 'validator') throw new Error('unreachable');
    {
      const id = r.name;
      const decide = createValidatorStrategy(strategyMod, { rng: createRng(seed ^ Math.imul(validators.length + 1, 0x165667b1)) });
      const v: ValidatorAgent = {
        id,
        address: addressOf(`validator/${id}`),
        strategy: strategyMod.name,
        decide,
        collude: new Set(),
        models: r.models,
        region: r.region,
        stakeTarget: BigInt(r.stakeMicro),
        fundTarget: BigInt(r.fundMicro),
        online: true,
        nonce: 0,
        computeMicro: 0,
        funded: 0n,
      };
      validators.push(v);
      validatorsByAddress.set(v.address, v);
      if (!byName.has(id)) byName.set(id, v);
    }
  }
  // collusion names miner instances and is kept by name: a partner that re-joins under a new address
  // (`sim.rejoinEjected`) is still a partner
  resolved.validators.forEach((r, vi) => {
    for (const n of r.colludeWith) {
      const m = byName.get(n);
      if (m && 'slots' in m) validators[vi]!.collude.add(m.id);
    }
  });
  for (const g of resolved.clients) {
    const entries = Object.entries(g.models);
    const total = entries.reduce((a, [, w]) => a + w, 0);
    let acc = 0;
    const cum = entries.map(([, w]) => (acc += w / total));
    // one max price per client, as the testnet's load generator takes it
    const maxPrice = clientMaxPriceMicro(g);
    g.instances.forEach((id) => {
      clients.push({
        id,
        address: addressOf(`client/${id}`),
        inflight: 0,
        concurrency: g.concurrency,
        rate: g.ratePerSec,
        models: entries.map(([m]) => m),
        cum,
        maxPrice,
        private: g.private,
        regions: g.regions,
        tokens: g.maxTokens,
        verification: g.verification,
        rows: g.batchRows,
        nonce: 0,
      });
    });
  }
  return { miners, validators, clients, byAddress, validatorsByAddress, byName };
}

/**
 * An outcome of a job, taught to an adaptive miner's learner (on the arm the job played; once per job).
 * `extra` carries what the learner is charged beyond the amount: when (virtual ms), and for a slash the
 * jail, the ejection and the stake to post again — the same data the live miner passes.
 */
export function learnOutcome(m: MinerAgent, job: SimJob, kind: JobOutcome['kind'], amountMicro: number, extra: Partial<JobOutcome> = {}): void {
  const jobId = playedIds.get(job);
  if (jobId === undefined || job.arm < 0) return;
  m.decide.learn?.(jobId, outcome[kind](amountMicro, job.costMicro, extra));
  job.arm = -1;
}

// the id of a job its miner planned (the strategy's learning hook is keyed by job id)
const playedIds = new WeakMap<SimJob, string>();

// price → its worst-case cost to the client (params are fixed for a run)
const quotesOf = new WeakMap<SimWorld, Map<bigint, bigint>>();

/** `job.opened`: each eligible, online miner with a free slot soon bids (the agents' `bidPrice`), if the client can afford it. */
export function minersBid(w: SimWorld, jobId: string, closesAtMs: number, eligible: string[]): void {
  const job = w.jobs.get(jobId);
  if (!job) return;
  let quotes = quotesOf.get(w);
  if (!quotes) quotesOf.set(w, (quotes = new Map()));
  const q = quotes;
  const worstCase = (p: bigint): bigint => {
    let c = q.get(p);
    // the cache holds the default level's costs; other levels are priced directly
    if (job.client.verification !== 'sampled') return worstCaseCost(w.state, p, job.client.verification);
    if (c === undefined) q.set(p, (c = worstCaseCost(w.state, p)));
    return c;
  };
  const { rng, P, now } = w;
  // indexed loops: this runs once per eligible miner per job, and for-of here allocated an iterator result per step
  for (let ai = 0; ai < eligible.length; ai++) {
    const m = w.byAddress.get(eligible[ai]!);
    if (!m || !m.online || m.away) continue;
    let free = Infinity;
    const slots = m.slots;
    for (let si = 0; si < slots.length; si++) if (slots[si]! < free) free = slots[si]!;
    // a busy miner does not bid on work it could not start soon
    if (free > now + P.jobDeadlineMs / 2) continue;
    // the resolved plan prices every model a miner serves, and only serving miners are eligible
    const baseMicro = m.price[job.model];
    if (baseMicro === undefined) continue;
    const priceMicro = m.decide.bidPrice({ model: job.model, baseMicro, spreadBps: m.spreadBps, maxPriceMicro: job.client.maxPrice, worstCase }, rng);
    if (priceMicro === null) continue;
    const at = Math.ceil(now + netDelay(w));
    if (at >= closesAtMs) continue;
    w.queue.push(at, { type: 'job.bid', atMs: at, jobId, priceMicro, by: m.address, nonce: `${++m.nonce}`, expiresAtMs: at + w.ttl });
  }
}

/**
 * Standing offers (`matchingMode: offers`): the miner's signed offer, priced by its strategy's bid rule
 * (`offerPrices`, as the live miner), capacity = its execution slots, standing for the rest of the run (the
 * live miner refreshes before expiry instead). Posted at join, re-join and whenever it comes back online.
 */
export function minerOffer(w: SimWorld, m: MinerAgent): MarketEvent | null {
  if (w.P.matchingMode !== 'offers') return null;
  const prices = offerPrices({ decide: m.decide, models: m.models, baseOf: (model) => m.price[model], spreadBps: m.spreadBps, params: w.P, rng: w.rng });
  if (Object.keys(prices).length === 0) return null;
  return { type: 'offer.post', atMs: w.now, prices, capacity: m.slots.length, variant: m.variant, untilMs: Number.MAX_SAFE_INTEGER, ...signedBy(w, m, w.now) };
}

/** `job.assigned`: the miner decides how to handle the job (its strategy), spends compute and queues its result. */
export function minerRuns(w: SimWorld, jobId: string, minerAddr: string, deadlineAtMs: number, priceMicro = 0n): void {
  const job = w.jobs.get(jobId);
  const m = w.byAddress.get(minerAddr);
  if (!job || !m) return;
  const { rng, now } = w;
  job.miner = m;
  job.arm = -1;
  if (!m.online) return; // assigned while it went down: it will miss the deadline
  const plan = m.decide.planJob({ jobId, model: job.model, priceMicro, deadlineMs: w.P.jobDeadlineMs, hasReplay: m.lastOutput.has(job.model) }, rng);
  // planned: its outcome goes to the strategy's learning hook, once
  job.arm = 0;
  playedIds.set(job, jobId);
  if (plan.kind === 'drop') return; // dropped: the deadline will pass
  let run = m.variant;
  let cls: OutClass = 0;
  let cheated = false;
  let cpu = true;
  const extra = plan.extraDelayMs;
  if (plan.kind === 'run') {
    run = plan.variant;
    if (run !== m.variant) {
      // a downgrade: whether int4 output falls outside the comparator's tolerance is the modelled part
      cheated = true;
      cls = rng.next() < w.downgradeMismatch ? 2 : 0;
    }
  } else {
    cls = plan.kind === 'fake' ? 1 : 4;
    cheated = true;
    cpu = false;
  }
  const ms = cpu ? computeMs(job.model, run, job.tokens, w.costOverrides, job.rows) : 0;
  const cost = computeCostMicro(ms, w.costPerCpuSec);
  m.computeMicro += cost;
  job.costMicro = cost;
  // execution: the earliest free slot
  let si = 0;
  for (let i = 1; i < m.slots.length; i++) if (m.slots[i]! < m.slots[si]!) si = i;
  const start = Math.max(now, m.slots[si]!);
  const doneAt = start + ms + injectedDelay(m.latencyMs, m.jitterMs, rng) + extra;
  m.slots[si] = doneAt;
  const at = Math.ceil(doneAt + netDelay(w));
  if (at > deadlineAtMs) return; // too late: the miner abandons it and the deadline fires
  job.out = cls;
  job.cheated = cheated;
  let outputHash = cls === 4 ? m.lastOutput.get(job.model)! : hashOf(job, cls);
  // redundant replicas that cheat do not agree with each other by accident: their garbage is their own
  if (job.reps && cls !== 0) outputHash = hashHex(`${outputHash}/${m.address}`);
  job.reps?.set(m.address, { hash: outputHash, cheated });
  job.outHash = outputHash;
  m.lastOutput.set(job.model, outputHash); // as the live miner: its last output for the model, whatever it was
  const trace = traceFields(w, job, outputHash, cheated); // bisection mode: the committed layer trace
  w.queue.push(at, { k: 'result', miner: m, inc: m.incarnation, ev: { type: 'job.result', atMs: at, jobId, outputHash, ...trace, by: m.address, nonce: `${++m.nonce}`, expiresAtMs: at + w.ttl } });
}

/** Rows a validator re-executes for `job`: a batch job's audit samples `auditSampleRows` of them (the rules' draw). */
function auditedRows(w: SimWorld, job: SimJob): number {
  return Math.min(job.rows, w.P.auditSampleRows);
}

/** What a validator's re-execution yields, as an output class (honest validators may diverge). */
function reexecute(w: SimWorld, v: ValidatorAgent, job: SimJob): OutClass {
  const cpu = computeMs(job.model, job.miner?.variant ?? 'int8', job.tokens, w.costOverrides, auditedRows(w, job));
  v.computeMicro += computeCostMicro(cpu, w.costPerCpuSec);
  return w.divergence > 0 && w.rng.next() < w.divergence ? 3 : 0;
}

/** `audit.requested`: the chosen validator handles the task as its strategy says (`planTask`) and reports. */
export function validatorAudits(w: SimWorld, jobId: string, vAddr: string): void {
  const job = w.jobs.get(jobId);
  const v = w.validatorsByAddress.get(vAddr);
  if (!job || !v || !v.online || !job.miner) return;
  const action = v.decide.planTask({ purpose: 'audit', jobId, minerIsPartner: v.collude.has(job.miner.id), partnerShares: w.colludersVouch });
  if (action === 'silent') return; // the audit window lapses; the job settles unaudited
  let hash: string;
  let match: boolean;
  let ms = 0;
  if (action === 'vouch') {
    // the partner's own output, handed over: equal to the miner's
    hash = job.outHash;
    match = true;
  } else if (action === 'cheap-claim') {
    // no re-execution: an output it did not compute, which the comparator finds different
    hash = hashOf(job, 1).slice(0, 62) + 'ff';
    match = hash === job.outHash;
  } else {
    const cls = reexecute(w, v, job);
    hash = hashOf(job, cls);
    match = cls === 0 && job.out === 0 && job.outHash === hashOf(job, 0);
    ms = computeMs(job.model, job.miner.variant, job.tokens, w.costOverrides, auditedRows(w, job));
  }
  const at = Math.ceil(w.now + netDelay(w) * 2 + ms);
  if (at > w.state.nowMs + w.P.auditWindowMs) return;
  w.queue.push(at, { type: 'audit.report', atMs: at, jobId, outputHash: hash, match, ...signedBy(w, v, at) });
}


/** `dispute.opened`: each referee handles the task as its strategy says (`planTask`) and votes. */
export function refereesVote(w: SimWorld, jobId: string, referees: string[], deadlineAtMs: number): void {
  const job = w.jobs.get(jobId);
  if (!job || !job.miner) return;
  for (const r of referees) {
    const v = w.validatorsByAddress.get(r);
    if (!v || !v.online) continue;
    const stance = refereeStance(w, v, jobId, job.miner);
    if (stance === null) continue;
    let minerCorrect: boolean;
    let ms = 0;
    if (stance !== 'run') minerCorrect = stance;
    else {
      minerCorrect = reexecute(w, v, job) === 0 && job.outHash === hashOf(job, 0);
      ms = computeMs(job.model, job.miner.variant, job.tokens, w.costOverrides, auditedRows(w, job));
      noteQuorumVote(w, jobId, ms);
    }
    const at = Math.ceil(w.now + netDelay(w) * 2 + ms);
    if (at > deadlineAtMs) continue;
    w.queue.push(at, { type: 'dispute.vote', atMs: at, jobId, minerCorrect, ...signedBy(w, v, at) });
  }
}
