import { cpus } from 'node:os';
import {
  apply,
  checkInvariants,
  createState,
  hashHex,
  InfermarketError,
  ledgerTotals,
  paramsToJson,
  percentile,
  worstCaseCost,
  type Effect,
  type MarketEvent,
  type MarketState,
  type RunReport,
  type Scenario,
  type Timer,
} from '@infermarket/protocol';
import { createBandit, DEFAULT_CHEAT_LEVELS, DEFAULT_DECAY, DEFAULT_EPSILON, type Bandit } from './bandit.js';
import { computeCostMicro, computeMs, DEFAULT_MAX_TOKENS, DOWNGRADE_MISMATCH_RATE } from './cost-model.js';
import { createEventQueue } from './event-queue.js';
import type { SimMetrics } from './metrics.js';
import { applyOverrides } from './overrides.js';
import { createRng, type Rng } from './rng.js';

/** Options of one simulation run. */
export interface RunSimulationOptions {
  /** Run seed; default the scenario's `seed`. */
  seed?: number;
  /** Master seed recorded beside the run seed (a sweep's); default the run seed. */
  masterSeed?: number;
  /** Named overrides (see `applyOverrides`): protocol params, `sim.*`, group fields. */
  overrides?: Readonly<Record<string, string | number | boolean>>;
  /** Check every invariant after every event (default: the scenario's `sim.checkInvariants`, else false). */
  checkInvariants?: boolean;
  /** Called every ~`progressEveryMs` of virtual time with the fraction done. */
  onProgress?: (fraction: number) => void;
  /** Called with every accepted event and its effects (e.g. `createJobLog().observe` for jobs.csv). */
  onApplied?: (event: MarketEvent, effects: readonly Effect[]) => void;
}

/** report.json of a simulation: the shared `RunReport` plus the simulator's own metrics. */
export interface SimReport extends RunReport {
  sim: SimMetrics;
}

/** Simulator defaults (units in the names). */
export const SIM_DEFAULTS = Object.freeze({
  costPerCpuSecondMicro: 1_000,
  networkLatencyMs: 5,
  networkJitterMs: 2,
  honestDivergenceRate: 0,
  seriesPoints: 200,
  minerPriceMicro: 1_000,
  clientMaxPriceMicro: 100_000,
  clientConcurrency: 16,
  minerConcurrency: 4,
  flakyDropProbability: 0.3,
  /** Latency samples kept for percentiles (reservoir). */
  reservoir: 4_096,
  /** Samples written to the report. */
  reportSamples: 1_000,
});

const VERSION = '0.1.0';

type OutClass = 0 | 1 | 2 | 3 | 4; // 0 honest, 1 garbage (lazy), 2 downgraded, 3 diverged honest, 4 replayed

interface MinerAgent {
  id: string;
  address: string;
  strategy: string;
  region: string;
  models: string[];
  variant: string;
  latencyMs: number;
  jitterMs: number;
  slots: number[];
  cheatP: number;
  slowExtraMs: number;
  price: Record<string, number>;
  spreadBps: number;
  stakeTarget: bigint;
  funded: bigint;
  /** Earlier identities (addresses) of this agent, when it re-joined after an ejection. */
  past: { address: string; funded: bigint; stakeStart: bigint }[];
  online: boolean;
  incarnation: number;
  bandit: Bandit | null;
  lastOutput: string | null;
  computeMicro: number;
  commits: number;
  cheats: number;
  lateCommits: number;
  lateCheats: number;
  nonce: number;
  stakeStart: bigint;
}

interface ValidatorAgent {
  id: string;
  address: string;
  strategy: string;
  collude: Set<string>;
  online: boolean;
  nonce: number;
  computeMicro: number;
  funded: bigint;
}

interface ClientAgent {
  id: string;
  address: string;
  inflight: number;
  concurrency: number;
  rate: number;
  models: string[];
  cum: number[];
  maxPrice: bigint;
  private: boolean;
  regions: string[];
  tokens: number;
  nonce: number;
}

interface SimJob {
  client: ClientAgent;
  model: string;
  tokens: number;
  submittedAtMs: number;
  base: string;
  miner: MinerAgent | null;
  out: OutClass;
  outHash: string;
  cheated: boolean;
  arm: number;
  costMicro: number;
  committedAtMs: number;
}

// protocol events go into the queue as they are (one allocation per event); the simulator's own items carry `k`
type SimItem =
  | { k: 'result'; miner: MinerAgent; inc: number; ev: MarketEvent }
  | { k: 'arrive'; client: ClientAgent }
  | { k: 'epoch' }
  | { k: 'sample' }
  | { k: 'churn'; miner: MinerAgent; up: boolean }
  | { k: 'fault'; target: string; up: boolean };
type Item = MarketEvent | SimItem;

/** True when the rules would ignore this timer (its job moved on): the driver need not fire it. Mirrors `fireTimer`. */
function staleTimer(state: MarketState, t: Timer): boolean {
  if (t.kind === 'unbond') return false;
  const j = state.jobs.get(t.jobId);
  if (!j) return true;
  switch (t.kind) {
    case 'bid-window':
      return !(j.status === 'bidding' && j.attempt === t.attempt);
    case 'deadline':
      return !(j.status === 'assigned' && j.attempt === t.attempt);
    case 'audit':
      return j.status !== 'auditing';
    case 'dispute':
      return j.status !== 'disputed';
    case 'challenge':
      return j.status !== 'committed';
  }
}

const ZERO = '0'.repeat(64);

function hex64(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += rng.hex32();
  return s;
}

function amount(v: string | undefined, dflt: bigint): bigint {
  return v === undefined ? dflt : BigInt(v);
}

/**
 * Run one simulation of a scenario on a virtual clock, driving the protocol's `apply` with modelled
 * miners, validators and clients. Deterministic: the same scenario, seed and overrides give the same
 * report, byte for byte (apart from `sim.wallMs`, the only wall-clock field).
 * @throws InfermarketError `ERR_BAD_SCENARIO` for a bad scenario or override; `ERR_INTERNAL` if an invariant breaks.
 * @example const report = runSimulation(parseScenario(json), { seed: 1 });
 */
export function runSimulation(input: Scenario, options: RunSimulationOptions = {}): SimReport {
  const scenario = options.overrides && Object.keys(options.overrides).length ? applyOverrides(input, options.overrides) : input;
  const seed = options.seed ?? scenario.seed;
  const masterSeed = options.masterSeed ?? seed;
  const simS = scenario.sim ?? {};
  const check = options.checkInvariants ?? simS.checkInvariants ?? false;
  const rng = createRng(seed);
  const sampleRng = createRng(seed ^ 0x5bd1e995);

  const modelSet = new Set<string>();
  for (const c of scenario.clients) for (const [m, w] of Object.entries(c.models)) if (w > 0) modelSet.add(m);
  for (const g of scenario.miners) for (const m of g.models ?? []) modelSet.add(m);
  for (const g of scenario.validators) for (const m of g.models ?? []) modelSet.add(m);
  const allModels = [...modelSet].sort();
  const state: MarketState = createState({ params: scenario.params ?? {}, models: allModels, keepFinishedJobs: false });
  const P = state.params;

  const costPerCpuSec = Number(simS.costPerCpuSecondMicro ?? SIM_DEFAULTS.costPerCpuSecondMicro);
  const netMs = simS.networkLatencyMs ?? SIM_DEFAULTS.networkLatencyMs;
  const netJitter = simS.networkJitterMs ?? SIM_DEFAULTS.networkJitterMs;
  const divergence = simS.honestDivergenceRate ?? SIM_DEFAULTS.honestDivergenceRate;
  const downgradeMismatch = simS.downgradeMismatchRate ?? DOWNGRADE_MISMATCH_RATE;
  const costOverrides = simS.computeMsPerJob;
  const ttl = Math.min(1_000, P.messageTtlMs);
  const rejoinEjected = simS.rejoinEjected === true;
  const duration = scenario.durationMs;
  const half = duration / 2;

  const queue = createEventQueue<Item>();
  let now = 0;
  const net = (): number => Math.max(0, netMs + (rng.next() * 2 - 1) * netJitter);

  // --- report accumulators
  const rejected: Record<string, number> = {};
  let events = 0;
  let applied = 0;
  let throttled = 0;
  let invariantChecks = 0;
  const violations: string[] = [];
  const slashes: RunReport['slashes'] = [];
  let cheatedCommits = 0;
  let commits = 0;
  let cheatedSlashed = 0;
  let detectionSum = 0;
  let falseSlashes = 0;
  let validatorSlashes = 0;
  let clientSpend = 0n;
  let settledCount = 0;
  const latRes: number[] = [];
  const ttftRes: number[] = [];
  let latSeen = 0;
  const regions: Record<string, number> = {};

  // --- agents
  const addressOf = (name: string): string => `im${hashHex(`infermarket/sim/v1\n${seed}\n${name}`).slice(0, 40)}`;
  const byAddress = new Map<string, MinerAgent>();
  const validatorsByAddress = new Map<string, ValidatorAgent>();
  const miners: MinerAgent[] = [];
  const validators: ValidatorAgent[] = [];
  const clients: ClientAgent[] = [];
  const byName = new Map<string, MinerAgent | ValidatorAgent>();
  const adaptive = simS.adaptive ?? {};

  const send = (ev: MarketEvent): Effect[] | null => {
    try {
      const fx = apply(state, ev);
      applied++;
      options.onApplied?.(ev, fx);
      return fx;
    } catch (e) {
      if (!(e instanceof InfermarketError)) throw e;
      rejected[e.code] = (rejected[e.code] ?? 0) + 1;
      return null;
    }
  };
  const mustSend = (ev: MarketEvent): void => {
    const fx = apply(state, ev);
    applied++;
    options.onApplied?.(ev, fx);
    handle(fx);
  };

  for (const g of scenario.miners) {
    const name = g.name ?? g.strategy;
    const priceSpec = g.pricing?.priceMicro;
    const price: Record<string, number> = {};
    for (const m of allModels) {
      const p = typeof priceSpec === 'string' ? priceSpec : priceSpec?.[m];
      price[m] = Number(p ?? SIM_DEFAULTS.minerPriceMicro * (m === 'charlm' ? 4 : m === 'heavy' ? 20 : 1));
    }
    const stakeTarget = amount(g.stakeMicro, P.minMinerStakeMicro);
    for (let i = 0; i < g.count; i++) {
      const id = `${name}-${i}`;
      const cheatDefault = g.strategy === 'flaky' ? SIM_DEFAULTS.flakyDropProbability : 1;
      const agent: MinerAgent = {
        id,
        address: addressOf(`miner/${id}`),
        strategy: g.strategy,
        region: g.region ?? 'local',
        models: g.models ?? allModels,
        variant: g.variant ?? 'int8',
        latencyMs: g.latencyMs ?? 0,
        jitterMs: g.jitterMs ?? 0,
        slots: new Array<number>(g.concurrency ?? SIM_DEFAULTS.minerConcurrency).fill(0),
        cheatP: g.cheatProbability ?? cheatDefault,
        slowExtraMs: g.slowExtraMs ?? Math.round((2 * P.jobDeadlineMs) / 3),
        price,
        spreadBps: g.pricing?.spreadBps ?? 0,
        stakeTarget,
        funded: 0n,
        past: [],
        online: true,
        incarnation: 0,
        bandit:
          g.strategy === 'adaptive'
            ? createBandit({
                levels: adaptive.cheatLevels ?? DEFAULT_CHEAT_LEVELS,
                epsilon: adaptive.epsilon ?? DEFAULT_EPSILON,
                decay: adaptive.decay ?? DEFAULT_DECAY,
                rng: createRng(seed ^ Math.imul(miners.length + 1, 0x27d4eb2d)),
              })
            : null,
        lastOutput: null,
        computeMicro: 0,
        commits: 0,
        cheats: 0,
        lateCommits: 0,
        lateCheats: 0,
        nonce: 0,
        stakeStart: 0n,
      };
      miners.push(agent);
      byAddress.set(agent.address, agent);
      byName.set(id, agent);
    }
  }
  for (const g of scenario.validators) {
    const name = g.name ?? g.strategy;
    for (let i = 0; i < g.count; i++) {
      const id = `${name}-${i}`;
      const v: ValidatorAgent = { id, address: addressOf(`validator/${id}`), strategy: g.strategy, collude: new Set(), online: true, nonce: 0, computeMicro: 0, funded: 0n };
      validators.push(v);
      validatorsByAddress.set(v.address, v);
      if (!byName.has(id)) byName.set(id, v);
    }
  }
  // collusion names miner instances; resolve after all miners exist
  {
    let vi = 0;
    for (const g of scenario.validators) {
      for (let i = 0; i < g.count; i++, vi++) {
        for (const n of g.colludeWith ?? []) {
          const m = byName.get(n);
          if (m && 'slots' in m) validators[vi]!.collude.add(m.address);
        }
      }
    }
  }
  for (const g of scenario.clients) {
    const name = g.name ?? 'client';
    const entries = Object.entries(g.models).filter(([, w]) => w > 0);
    const total = entries.reduce((a, [, w]) => a + w, 0);
    let acc = 0;
    const cum = entries.map(([, w]) => (acc += w / total));
    for (let i = 0; i < g.count; i++) {
      clients.push({
        id: `${name}-${i}`,
        address: addressOf(`client/${name}-${i}`),
        inflight: 0,
        concurrency: g.concurrency ?? SIM_DEFAULTS.clientConcurrency,
        rate: g.ratePerSec,
        models: entries.map(([m]) => m),
        cum,
        maxPrice: amount(g.maxPriceMicro, BigInt(SIM_DEFAULTS.clientMaxPriceMicro)),
        private: g.private === true,
        regions: g.regions ?? [],
        tokens: g.maxTokens ?? DEFAULT_MAX_TOKENS,
        nonce: 0,
      });
    }
  }

  const jobs = new Map<string, SimJob>();
  let jobSeq = 0;

  // --- helpers
  const signed = (who: { address: string; nonce: number }, atMs: number): { by: string; nonce: string; expiresAtMs: number } => ({
    by: who.address,
    nonce: `n${who.nonce++}`,
    expiresAtMs: atMs + ttl,
  });
  const hashOf = (job: SimJob, cls: OutClass): string => (cls === 0 ? `${job.base}00` : `${job.base}0${cls}`);

  function bandReward(m: MinerAgent, job: SimJob, profit: number): void {
    if (m.bandit && job.arm >= 0) m.bandit.update(job.arm, profit - job.costMicro);
  }

  function finishJob(jobId: string): SimJob | undefined {
    const job = jobs.get(jobId);
    if (!job) return undefined;
    jobs.delete(jobId);
    job.client.inflight--;
    return job;
  }

  function restake(m: MinerAgent): void {
    const node = state.nodes.get(m.address);
    if (!node || node.ejected || node.stakeMicro >= m.stakeTarget) return;
    const need = m.stakeTarget - node.stakeMicro;
    const bal = state.ledger.get(`balance:${m.address}`) ?? 0n;
    const amt = bal < need ? bal : need;
    if (amt > 0n) {
      const fx = send({ type: 'stake.bond', atMs: now, amountMicro: amt, ...signed(m, now) });
      if (fx) handle(fx);
    }
  }

  /** Fund, register and bond a miner's (current) identity at the current time. */
  function joinMiner(m: MinerAgent): void {
    const cap = P.faucetCapMicro;
    const fund = cap < m.stakeTarget * 10n ? cap : m.stakeTarget * 10n;
    if (fund > 0n) mustSend({ type: 'account.faucet', atMs: now, address: m.address, amountMicro: fund });
    m.funded = fund;
    mustSend({ type: 'node.register', atMs: now, role: 'miner', models: m.models, region: m.region, encryptionKey: hashHex(`enc/${m.address}`), ...signed(m, now) });
    const stake = m.stakeTarget < fund ? m.stakeTarget : fund;
    if (stake > 0n) mustSend({ type: 'stake.bond', atMs: now, amountMicro: stake, ...signed(m, now) });
    m.stakeStart = state.nodes.get(m.address)!.stakeMicro;
  }

  /** An ejected miner comes back under a fresh key (identities are free): `sim.rejoinEjected`. */
  function rejoin(m: MinerAgent): void {
    m.past.push({ address: m.address, funded: m.funded, stakeStart: m.stakeStart });
    m.address = addressOf(`miner/${m.id}/${m.past.length}`);
    m.nonce = 0;
    byAddress.set(m.address, m);
    joinMiner(m);
  }

  // price → its bigint and worst-case cost to the client (params are fixed for a run)
  const quotes = new Map<number, { priceMicro: bigint; worst: bigint }>();

  function onOpened(jobId: string, closesAtMs: number, eligible: string[]): void {
    const job = jobs.get(jobId);
    if (!job) return;
    for (const a of eligible) {
      const m = byAddress.get(a);
      if (!m || !m.online) continue;
      let free = Infinity;
      for (const s of m.slots) if (s < free) free = s;
      // a busy miner does not bid on work it could not start soon
      if (free > now + P.jobDeadlineMs / 2) continue;
      let price = m.price[job.model] ?? SIM_DEFAULTS.minerPriceMicro;
      if (m.spreadBps > 0) price = Math.max(1, Math.round(price * (1 + ((rng.next() * 2 - 1) * m.spreadBps) / 10_000)));
      let quote = quotes.get(price);
      if (!quote) {
        const priceMicro = BigInt(price);
        quote = { priceMicro, worst: worstCaseCost(state, priceMicro) };
        quotes.set(price, quote);
      }
      if (quote.worst > job.client.maxPrice) continue;
      const priceMicro = quote.priceMicro;
      const at = Math.ceil(now + net());
      if (at >= closesAtMs) continue;
      queue.push(at, { type: 'job.bid', atMs: at, jobId, priceMicro, by: m.address, nonce: `n${m.nonce++}`, expiresAtMs: at + ttl });
    }
  }

  function onAssigned(jobId: string, minerAddr: string, deadlineAtMs: number): void {
    const job = jobs.get(jobId);
    const m = byAddress.get(minerAddr);
    if (!job || !m) return;
    job.miner = m;
    job.arm = -1;
    if (!m.online) return; // assigned while it went down: it will miss the deadline
    let run = m.variant;
    let cls: OutClass = 0;
    let cheated = false;
    let cpu = true;
    let extra = 0;
    switch (m.strategy) {
      case 'lazy':
        if (rng.next() < m.cheatP) {
          cls = 1;
          cheated = true;
          cpu = false;
        }
        break;
      case 'replay':
        if (rng.next() < m.cheatP) {
          cls = 4;
          cheated = true;
          cpu = false;
        }
        break;
      case 'downgrade':
        if (rng.next() < m.cheatP) {
          run = 'int4';
          cheated = true;
          cls = rng.next() < downgradeMismatch ? 2 : 0;
        }
        break;
      case 'flaky':
        if (rng.next() < m.cheatP) return; // dropped: the deadline will pass
        break;
      case 'slow':
        extra = m.slowExtraMs;
        break;
      case 'adaptive': {
        const arm = m.bandit!.choose();
        job.arm = arm;
        if (rng.next() < m.bandit!.levels[arm]!) {
          cls = 1;
          cheated = true;
          cpu = false;
        }
        break;
      }
    }
    const ms = cpu ? computeMs(job.model, run, job.tokens, costOverrides) : 0;
    const cost = computeCostMicro(ms, costPerCpuSec);
    m.computeMicro += cost;
    job.costMicro = cost;
    // execution: the earliest free slot
    let si = 0;
    for (let i = 1; i < m.slots.length; i++) if (m.slots[i]! < m.slots[si]!) si = i;
    const start = Math.max(now, m.slots[si]!);
    const jitter = m.jitterMs > 0 ? (rng.next() * 2 - 1) * m.jitterMs : 0;
    const doneAt = start + ms + Math.max(0, m.latencyMs + jitter) + extra;
    m.slots[si] = doneAt;
    const at = Math.ceil(doneAt + net());
    if (at > deadlineAtMs) return; // too late: the miner abandons it and the deadline fires
    job.out = cls;
    job.cheated = cheated;
    const outputHash = cls === 4 ? (m.lastOutput ?? hashOf(job, 1)) : hashOf(job, cls);
    job.outHash = outputHash;
    if (cls === 0) m.lastOutput = outputHash;
    queue.push(at, { k: 'result', miner: m, inc: m.incarnation, ev: { type: 'job.result', atMs: at, jobId, outputHash, by: m.address, nonce: `n${m.nonce++}`, expiresAtMs: at + ttl } });
  }

  /** What a validator's re-execution yields, as an output class (honest validators may diverge). */
  function reexecute(v: ValidatorAgent, job: SimJob): OutClass {
    const cpu = computeMs(job.model, job.miner?.variant ?? 'int8', job.tokens, costOverrides);
    v.computeMicro += computeCostMicro(cpu, costPerCpuSec);
    return divergence > 0 && rng.next() < divergence ? 3 : 0;
  }

  function onAuditRequested(jobId: string, vAddr: string): void {
    const job = jobs.get(jobId);
    const v = validatorsByAddress.get(vAddr);
    if (!job || !v || !v.online || !job.miner) return;
    let hash: string;
    let match: boolean;
    if (v.strategy === 'colluding' && v.collude.has(job.miner.address)) {
      hash = job.outHash;
      match = true;
    } else if (v.strategy === 'lazy') {
      // no re-execution: a guessed output, which the comparator finds different
      hash = hashOf(job, 1).slice(0, 62) + 'ff';
      match = hash === job.outHash;
    } else {
      const cls = reexecute(v, job);
      hash = hashOf(job, cls);
      match = cls === 0 && job.out === 0 && job.outHash === hashOf(job, 0);
    }
    const at = Math.ceil(now + net() * 2 + computeMs(job.model, job.miner.variant, job.tokens, costOverrides));
    if (at > state.nowMs + P.auditWindowMs) return;
    queue.push(at, { type: 'audit.report', atMs: at, jobId, outputHash: hash, match, ...signed(v, at) });
  }

  function onDisputeOpened(jobId: string, referees: string[], deadlineAtMs: number): void {
    const job = jobs.get(jobId);
    if (!job || !job.miner) return;
    for (const r of referees) {
      const v = validatorsByAddress.get(r);
      if (!v || !v.online || v.strategy === 'lazy') continue;
      let minerCorrect: boolean;
      if (v.strategy === 'colluding' && v.collude.has(job.miner.address)) minerCorrect = true;
      else minerCorrect = reexecute(v, job) === 0 && job.outHash === hashOf(job, 0);
      const at = Math.ceil(now + net() * 2 + computeMs(job.model, job.miner.variant, job.tokens, costOverrides));
      if (at > deadlineAtMs) continue;
      queue.push(at, { type: 'dispute.vote', atMs: at, jobId, minerCorrect, ...signed(v, at) });
    }
  }

  function sampleLatency(lat: number, ttft: number): void {
    latSeen++;
    if (latRes.length < SIM_DEFAULTS.reservoir) {
      latRes.push(lat);
      ttftRes.push(ttft);
    } else {
      const j = Math.floor(sampleRng.next() * latSeen);
      if (j < SIM_DEFAULTS.reservoir) {
        latRes[j] = lat;
        ttftRes[j] = ttft;
      }
    }
  }

  function handle(fx: Effect[]): void {
    for (let i = 0; i < fx.length; i++) {
      const e = fx[i]!;
      if (e.type === 'ledger.entry') continue; // the most frequent effect; the ledger is read from the state
      switch (e.type) {
        case 'timer.set':
          queue.push(e.atMs, { type: 'timer.fire', atMs: e.atMs, timer: e.timer });
          break;
        case 'job.opened':
          onOpened(e.jobId, e.closesAtMs, e.eligible);
          break;
        case 'job.assigned':
          onAssigned(e.jobId, e.miner, e.deadlineAtMs);
          break;
        case 'job.committed': {
          const job = jobs.get(e.jobId);
          const m = byAddress.get(e.miner);
          if (!job || !m) break;
          job.committedAtMs = now;
          commits++;
          m.commits++;
          if (job.cheated) {
            cheatedCommits++;
            m.cheats++;
          }
          if (now >= half) {
            m.lateCommits++;
            if (job.cheated) m.lateCheats++;
          }
          regions[m.region] = (regions[m.region] ?? 0) + 1;
          const lat = now - job.submittedAtMs + netMs;
          const ttft = job.tokens > 0 && job.model === 'charlm' ? lat - (computeMs(job.model, m.variant, job.tokens - 1, costOverrides)) : lat;
          sampleLatency(lat, ttft);
          break;
        }
        case 'audit.requested':
          onAuditRequested(e.jobId, e.validator);
          break;
        case 'dispute.opened':
          onDisputeOpened(e.jobId, e.referees, e.deadlineAtMs);
          break;
        case 'job.settled': {
          const job = finishJob(e.jobId);
          settledCount++;
          if (job) {
            clientSpend += job.client.maxPrice - e.refundMicro;
            const m = byAddress.get(e.miner);
            if (m) bandReward(m, job, Number(e.priceMicro));
          }
          break;
        }
        case 'job.failed':
          finishJob(e.jobId);
          break;
        case 'job.missed': {
          const job = jobs.get(e.jobId);
          const m = byAddress.get(e.miner);
          if (job && m) {
            bandReward(m, job, -Number(e.penaltyMicro));
            job.arm = -1;
          }
          break;
        }
        case 'node.slashed': {
          const job = jobs.get(e.jobId);
          // the report keeps the first 10,000 slashes (memory stays bounded on long runs)
          if (slashes.length < 10_000) slashes.push({
            tMs: now,
            node: (byAddress.get(e.address) ?? validatorsByAddress.get(e.address))?.id ?? e.address,
            role: e.role,
            amountMicro: e.amountMicro.toString(),
            jobId: e.jobId,
            reason: e.reason,
          });
          if (e.role === 'validator') validatorSlashes++;
          else if (job) {
            if (job.cheated) {
              cheatedSlashed++;
              detectionSum += now - job.committedAtMs;
            } else falseSlashes++;
            const m = byAddress.get(e.address);
            if (m) {
              bandReward(m, job, -Number(e.amountMicro));
              job.arm = -1;
              if (e.ejected && rejoinEjected && m.address === e.address) rejoin(m);
              else restake(m);
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }

  // --- setup at t=0: epoch, accounts, nodes
  mustSend({ type: 'epoch.begin', atMs: 0, seed: hex64(rng) });
  const faucetCap = P.faucetCapMicro;
  for (const m of miners) joinMiner(m);
  let vi = 0;
  for (const g of scenario.validators) {
    const stakeTarget = amount(g.stakeMicro, P.minValidatorStakeMicro);
    for (let i = 0; i < g.count; i++, vi++) {
      const v = validators[vi]!;
      const fund = faucetCap < stakeTarget * 2n ? faucetCap : stakeTarget * 2n;
      if (fund > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: v.address, amountMicro: fund });
      v.funded = fund;
      mustSend({
        type: 'node.register',
        atMs: 0,
        role: 'validator',
        models: g.models ?? allModels,
        region: g.region ?? 'local',
        encryptionKey: hashHex(`enc/${v.address}`),
        ...signed(v, 0),
      });
      const stake = stakeTarget < fund ? stakeTarget : fund;
      if (stake > 0n) mustSend({ type: 'stake.bond', atMs: 0, amountMicro: stake, ...signed(v, 0) });
    }
  }
  for (const c of clients) {
    if (faucetCap > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: c.address, amountMicro: faucetCap });
    if (c.rate > 0) queue.push(Math.ceil(rng.exp(1000 / c.rate)), { k: 'arrive', client: c });
  }
  if (P.epochMs < duration) queue.push(P.epochMs, { k: 'epoch' });
  const points = simS.seriesPoints ?? SIM_DEFAULTS.seriesPoints;
  const sampleEvery = Math.max(1, Math.floor(duration / points));
  queue.push(0, { k: 'sample' });
  if (simS.churnMtbfMs && simS.churnMtbfMs > 0) {
    for (const m of miners) queue.push(Math.ceil(rng.exp(simS.churnMtbfMs)), { k: 'churn', miner: m, up: false });
  }
  for (const f of scenario.faults ?? []) {
    const up = f.action === 'restart' || f.action === 'heal';
    queue.push(f.atMs, { k: 'fault', target: f.target, up });
    if (f.action === 'kill' && f.restartAfterMs !== undefined) queue.push(f.atMs + f.restartAfterMs, { k: 'fault', target: f.target, up: true });
  }

  // --- series
  // one key per node: a validator named like a miner ("honest-0" in both groups) gets a suffix
  const minerIds = new Set(miners.map((m) => m.id));
  const seriesNodes = [
    ...miners.map((m) => ({ key: m.id, agent: m as { address: string } })),
    ...validators.map((v) => ({ key: minerIds.has(v.id) ? `${v.id} (validator)` : v.id, agent: v as { address: string } })),
  ].slice(0, 32);
  const series: RunReport['series'] = { tMs: [], stakeMusd: {}, balanceMusd: {}, settled: [], audits: [], slashes: [] };
  for (const n of seriesNodes) {
    series.stakeMusd[n.key] = [];
    series.balanceMusd[n.key] = [];
  }
  const toMusd = (v: bigint): number => Number(v) / 1e6;
  function sample(): void {
    series.tMs.push(now);
    for (const n of seriesNodes) {
      // read the address now: a miner that re-joined has a new one
      const address = n.agent.address;
      const node = state.nodes.get(address);
      series.stakeMusd[n.key]!.push(node ? toMusd(node.stakeMicro) : 0);
      series.balanceMusd[n.key]!.push(toMusd(state.ledger.get(`balance:${address}`) ?? 0n));
    }
    series.settled.push(state.stats.settled);
    series.audits.push(state.stats.audited);
    series.slashes.push(state.stats.minerSlashes + state.stats.validatorSlashes);
  }

  function setOnline(target: string, up: boolean): void {
    const a = byName.get(target);
    if (!a) return; // "market" and unknown targets: the simulator models node faults only
    if (a.online === up) return;
    a.online = up;
    if ('slots' in a && !up) a.incarnation++; // work in flight is lost
  }

  // --- main loop
  const progressEvery = Math.max(1, Math.floor(duration / 100));
  let nextProgress = progressEvery;
  for (;;) {
    const t = queue.peekTime();
    if (t > duration) break;
    const item = queue.pop()!;
    now = t;
    events++;
    if (options.onProgress && now >= nextProgress) {
      options.onProgress(now / duration);
      nextProgress = now + progressEvery;
    }
    if ('type' in item) {
      // skip what the rules would refuse or ignore — a vote or bid on a job that has moved on
      // (ERR_WRONG_STATE), a stale timer — rather than pay for it: the outcome is the same
      const ev = item;
      if (ev.type === 'timer.fire' ? staleTimer(state, ev.timer) : ev.type === 'job.bid' ? state.jobs.get(ev.jobId)?.status !== 'bidding' : ev.type === 'dispute.vote' && state.jobs.get(ev.jobId)?.status !== 'disputed') {
        // skipped
      } else {
        const fx = send(ev);
        if (fx) handle(fx);
      }
    } else switch (item.k) {
      case 'result': {
        if (item.inc !== item.miner.incarnation || !item.miner.online) break;
        const fx = send(item.ev);
        if (fx) handle(fx);
        break;
      }
      case 'arrive': {
        const c = item.client;
        queue.push(Math.ceil(now + rng.exp(1000 / c.rate)), item);
        const u = rng.next();
        let mi = 0;
        while (mi < c.cum.length - 1 && u >= c.cum[mi]!) mi++;
        const model = c.models[mi]!;
        const bal = state.ledger.get(`balance:${c.address}`) ?? 0n;
        if (c.inflight >= c.concurrency || bal < c.maxPrice) {
          throttled++;
          break;
        }
        const jobId = `j${jobSeq}`;
        const base = jobSeq.toString(16).padStart(62, '0');
        jobSeq++;
        const tokens = model === 'charlm' ? c.tokens : 0;
        const job: SimJob = {
          client: c,
          model,
          tokens,
          submittedAtMs: now,
          base,
          miner: null,
          out: 0,
          outHash: ZERO,
          cheated: false,
          arm: -1,
          costMicro: 0,
          committedAtMs: 0,
        };
        jobs.set(jobId, job);
        c.inflight++;
        const fx = send({
          type: 'job.submit',
          atMs: now,
          jobId,
          model,
          inputHash: `${base}ff`,
          maxPriceMicro: c.maxPrice,
          ...(c.regions.length ? { regions: c.regions } : {}),
          ...(c.private ? { private: true } : {}),
          ...signed(c, now),
        });
        if (fx) handle(fx);
        else finishJob(jobId);
        break;
      }
      case 'epoch': {
        const fx = send({ type: 'epoch.begin', atMs: now, seed: hex64(rng) });
        if (fx) handle(fx);
        queue.push(now + P.epochMs, item);
        break;
      }
      case 'sample':
        sample();
        if (now + sampleEvery <= duration) queue.push(now + sampleEvery, item);
        break;
      case 'churn': {
        setOnline(item.miner.id, item.up);
        const mean = item.up ? simS.churnMtbfMs! : (simS.churnDowntimeMs ?? simS.churnMtbfMs! / 10);
        queue.push(Math.ceil(now + Math.max(1, rng.exp(mean))), { k: 'churn', miner: item.miner, up: !item.up });
        break;
      }
      case 'fault':
        setOnline(item.target, item.up);
        break;
    }
    if (check) {
      invariantChecks++;
      const v = checkInvariants(state);
      if (v.length) {
        violations.push(...v.map((s) => `t=${now}: ${s}`));
        throw new InfermarketError('ERR_INTERNAL', `invariant violated at t=${now} (seed ${seed}): ${v.join('; ')}`, { details: { violations: v } });
      }
    }
  }
  now = duration;
  if (series.tMs[series.tMs.length - 1] !== now) sample();
  invariantChecks++;
  const endViolations = checkInvariants(state);
  violations.push(...endViolations);
  options.onProgress?.(1);

  // --- report
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
  const adaptiveMiners = miners.filter((m) => m.bandit);
  const adaptG = group((m) => m.bandit !== null);
  const lateCommits = adaptiveMiners.reduce((a, m) => a + m.lateCommits, 0);
  const lateCheats = adaptiveMiners.reduce((a, m) => a + m.lateCheats, 0);
  const costPerThousand = settledCount ? (clientSpend * 1000n) / BigInt(settledCount) : 0n;
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

  const simMetrics: SimMetrics = {
    masterSeed,
    runSeed: seed,
    overrides: { ...options.overrides },
    calibration: {
      msPerJob: Object.fromEntries(
        allModels.flatMap((m) => ['fp32', 'fp16', 'int8', 'int4'].map((v) => [`${m}:${v}`, Math.round(computeMs(m, v, 1, costOverrides) * 1e6) / 1e6])),
      ),
      costPerCpuSecondMicro: costPerCpuSec,
      downgradeMismatchRate: downgradeMismatch,
      honestDivergenceRate: divergence,
    },
    virtualMs: duration,
    events,
    applied,
    rejected,
    throttled,
    cheatRate: round(commits ? cheatedCommits / commits : 0)!,
    adaptiveCheatRate: adaptiveMiners.length ? round(lateCommits ? lateCheats / lateCommits : 0) : null,
    adaptiveLearnedLevel: adaptiveMiners.length
      ? round(adaptiveMiners.reduce((a, m) => a + m.bandit!.levels[m.bandit!.best()]!, 0) / adaptiveMiners.length)
      : null,
    detectionRate: cheatedCommits ? round(cheatedSlashed / cheatedCommits) : null,
    detectionLatencyMs: cheatedSlashed ? round(detectionSum / cheatedSlashed) : null,
    honestProfitMicro: round(honestG.profit),
    cheaterProfitMicro: round(cheatG.profit),
    adaptiveProfitMicro: round(adaptG.profit),
    honestProfitPerJobMicro: round(honestG.perJob),
    cheaterProfitPerJobMicro: round(cheatG.perJob),
    adaptiveProfitPerJobMicro: round(adaptG.perJob),
    falseSlashes,
    validatorSlashes,
    minerComputeMicro: round(miners.reduce((a, m) => a + m.computeMicro, 0))!,
    validatorComputeMicro: round(validators.reduce((a, v) => a + v.computeMicro, 0))!,
    validatorProfitMicro: validators.length ? round(validators.reduce((a, v) => a + Number(heldBy(v.address) - v.funded) - v.computeMicro, 0) / validators.length) : null,
    costPerThousandMicro: Number(costPerThousand),
    successRate: round(finished ? stats.settled / finished : 0)!,
    throughputPerSec: round((finished / duration) * 1000)!,
  };

  const report: SimReport = {
    kind: 'sim',
    version: 1,
    seed,
    scenario: scenario.name,
    params: paramsToJson(P),
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
    latencyMs: { p50: round(percentile(latRes, 50))!, p95: round(percentile(latRes, 95))!, p99: round(percentile(latRes, 99))! },
    ttftMs: { p50: round(percentile(ttftRes, 50))!, p95: round(percentile(ttftRes, 95))! },
    successRate: simMetrics.successRate,
    costPerThousandMicro: costPerThousand.toString(),
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
    invariants: { checks: invariantChecks, violations },
    slashes,
    series,
    samples: { latencyMs: latRes.slice(0, SIM_DEFAULTS.reportSamples).map((x) => round(x)!), ttftMs: ttftRes.slice(0, SIM_DEFAULTS.reportSamples).map((x) => round(x)!) },
    regions,
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, infermarket: VERSION },
    sim: simMetrics,
  };
  return report;
}
