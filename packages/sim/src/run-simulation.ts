import { repricesAfterAssignment } from '@infermarket/agents';
import {
  apply,
  checkInvariants,
  createState,
  hashHex,
  InfermarketError,
  resolveScenario,
  timerLive,
  type Effect,
  type MarketEvent,
  type MarketState,
  type RunReport,
  type Scenario,
} from '@infermarket/protocol';
import { computeMs, DOWNGRADE_MISMATCH_RATE } from './cost-model.js';
import { createEventQueue } from './event-queue.js';
import { applyOverrides } from './overrides.js';
import { createRng, type Rng } from './rng.js';
import { buildAgents, learnOutcome, minerOffer, minerRuns, minersBid, refereesVote, validatorAudits } from './sim-agents.js';
import { SIM_DEFAULTS } from './sim-defaults.js';
import { buildReport, type SimReport } from './sim-report.js';
import { createSimEconomics, jobPaidMicro } from './economics.js';
import { createSimHybrid } from './hybrid.js';
import { createTally, hashOf, signedBy, type Item, type MinerAgent, type SimJob, type SimWorld } from './sim-world.js';
import { createTruthTracker } from './truth.js';
import type { StrategyModule } from '@infermarket/agents';
import { handleBisectionEffect, TRACE_LAYERS } from './sim-bisection.js';

export { SIM_DEFAULTS } from './sim-defaults.js';
export type { SimReport } from './sim-report.js';

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
  /** The scenario's strategy modules (groups whose `strategy` is a module path), from `loadScenarioStrategies`. */
  strategyModules?: ReadonlyMap<string, StrategyModule>;
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
 *
 * This file is the event loop (setup, effects → queued events, the virtual clock); the agents'
 * decisions are in `sim-agents.ts`, the report in `sim-report.ts`.
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
  const state: MarketState = createState({ params: scenario.params ?? {}, models: allModels, keepFinishedJobs: false, traceLayers: TRACE_LAYERS });
  const P = state.params;
  const netMs = simS.networkLatencyMs ?? SIM_DEFAULTS.networkLatencyMs;
  const rejoinEjected = simS.rejoinEjected === true;
  const duration = scenario.durationMs;
  const half = duration / 2;

  // the one resolved plan (names, stakes, prices, funding) the testnet runs too; written into the report
  const resolved = resolveScenario(scenario);
  const addressOf = (name: string): string => `im${hashHex(`infermarket/sim/v1\n${seed}\n${name}`).slice(0, 40)}`;
  const w: SimWorld = {
    seed,
    state,
    P,
    queue: createEventQueue<Item>(),
    rng,
    now: 0,
    ttl: Math.min(1_000, P.messageTtlMs),
    netMs,
    netJitter: simS.networkJitterMs ?? SIM_DEFAULTS.networkJitterMs,
    divergence: simS.honestDivergenceRate ?? SIM_DEFAULTS.honestDivergenceRate,
    downgradeMismatch: simS.downgradeMismatchRate ?? DOWNGRADE_MISMATCH_RATE,
    colludersVouch: simS.colludersVouch === true,
    costOverrides: simS.computeMsPerJob,
    costPerCpuSec: Number(simS.costPerCpuSecondMicro ?? SIM_DEFAULTS.costPerCpuSecondMicro),
    allModels,
    ...buildAgents(scenario, { seed, resolved, addressOf, ...(options.strategyModules ? { strategyModules: options.strategyModules } : {}) }),
    jobs: new Map<string, SimJob>(),
    tally: createTally(),
    truth: createTruthTracker(),
  };
  const { queue, miners, validators, clients, byAddress, validatorsByAddress, byName, jobs, tally } = w;
  // the reward token's oracle, USD costs and churn (docs/economics.md); null when the scenario uses none of it
  const econ = createSimEconomics(w, scenario);
  // hybrid client groups: market or a modelled centralized baseline (docs/economics.md); null when none
  const hybrid = createSimHybrid(w, scenario, resolved);
  let jobSeq = 0;

  const send = (ev: MarketEvent): Effect[] | null => {
    try {
      const fx = apply(state, ev);
      tally.applied++;
      options.onApplied?.(ev, fx);
      return fx;
    } catch (e) {
      if (!(e instanceof InfermarketError)) throw e;
      tally.rejected[e.code] = (tally.rejected[e.code] ?? 0) + 1;
      return null;
    }
  };
  const mustSend = (ev: MarketEvent): void => {
    const fx = apply(state, ev);
    tally.applied++;
    options.onApplied?.(ev, fx);
    handle(fx);
  };

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
      const fx = send({ type: 'stake.bond', atMs: w.now, amountMicro: amt, ...signedBy(w, m, w.now) });
      if (fx) handle(fx);
    }
  }

  /** Fund, register and bond a miner's (current) identity at the current time. */
  function joinMiner(m: MinerAgent): void {
    const now = w.now;
    const fund = m.fundTarget;
    if (fund > 0n) mustSend({ type: 'account.faucet', atMs: now, address: m.address, amountMicro: fund });
    m.funded = fund;
    mustSend({ type: 'node.register', atMs: now, role: 'miner', models: m.models, region: m.region, encryptionKey: hashHex(`enc/${m.address}`), ...signedBy(w, m, now) });
    const stake = m.stakeTarget < fund ? m.stakeTarget : fund;
    if (stake > 0n) mustSend({ type: 'stake.bond', atMs: now, amountMicro: stake, ...signedBy(w, m, now) });
    m.stakeStart = state.nodes.get(m.address)!.stakeMicro;
    postOffer(m);
  }

  /** Standing offers: the miner posts its offer (at join, and when it comes back online, as the live miner at login). */
  function postOffer(m: MinerAgent): void {
    const ev = minerOffer(w, m);
    if (!ev) return;
    const fx = send(ev);
    if (fx) handle(fx);
  }

  /** An ejected miner comes back under a fresh key (identities are free): `sim.rejoinEjected`. */
  function rejoin(m: MinerAgent): void {
    m.past.push({ address: m.address, funded: m.funded, stakeStart: m.stakeStart });
    m.address = addressOf(`miner/${m.id}/${m.past.length}`);
    m.nonce = 0;
    byAddress.set(m.address, m);
    joinMiner(m);
  }

  function sampleLatency(lat: number, ttft: number): void {
    tally.latSeen++;
    if (tally.latRes.length < SIM_DEFAULTS.reservoir) {
      tally.latRes.push(lat);
      tally.ttftRes.push(ttft);
    } else {
      const j = Math.floor(sampleRng.next() * tally.latSeen);
      if (j < SIM_DEFAULTS.reservoir) {
        tally.latRes[j] = lat;
        tally.ttftRes[j] = ttft;
      }
    }
  }

  function handle(fx: Effect[]): void {
    econ?.observe(fx);
    hybrid?.observe(fx);
    for (let i = 0; i < fx.length; i++) {
      const e = fx[i]!;
      if (e.type === 'ledger.entry') continue; // the most frequent effect; the ledger is read from the state
      if (handleBisectionEffect(w, e)) continue;
      switch (e.type) {
        case 'timer.set':
          queue.push(e.atMs, { type: 'timer.fire', atMs: e.atMs, timer: e.timer });
          break;
        case 'job.opened':
          minersBid(w, e.jobId, e.closesAtMs, e.eligible);
          break;
        case 'job.assigned': {
          minerRuns(w, e.jobId, e.miner, e.deadlineAtMs, e.priceMicro);
          // standing offers: the miner re-prices after each assignment, as the live miner does
          const m = byAddress.get(e.miner);
          if (m && m.online && P.matchingMode === 'offers' && repricesAfterAssignment(m.spreadBps)) postOffer(m);
          break;
        }
        case 'job.committed': {
          const job = jobs.get(e.jobId);
          const m = byAddress.get(e.miner);
          if (!job || !m) break;
          const now = w.now;
          job.committedAtMs = now;
          tally.commits++;
          m.commits++;
          const rep = job.reps?.get(e.miner);
          if (rep) job.cheated = rep.cheated;
          w.truth.committed(job.client.verification, e.outputHash !== hashOf(job, 0));
          if (job.cheated) {
            tally.cheatedCommits++;
            m.cheats++;
          }
          if (now >= half) {
            m.lateCommits++;
            if (job.cheated) m.lateCheats++;
          }
          tally.regions[m.region] = (tally.regions[m.region] ?? 0) + 1;
          const lat = now - job.submittedAtMs + netMs;
          const ttft = job.tokens > 0 && job.model === 'charlm' ? lat - (computeMs(job.model, m.variant, job.tokens - 1, w.costOverrides)) : lat;
          sampleLatency(lat, ttft);
          break;
        }
        case 'audit.requested':
          validatorAudits(w, e.jobId, e.validator);
          break;
        case 'dispute.opened': {
          const job = jobs.get(e.jobId);
          if (job) {
            if (job.accuser === null) job.accuser = e.accuser;
            else tally.disputeEscalations++; // the same dispute, more referees
          }
          refereesVote(w, e.jobId, e.referees, e.deadlineAtMs);
          break;
        }
        case 'dispute.resolved': {
          // an honest validator accused a cheated result: was it outvoted (and slashed for it)?
          const job = jobs.get(e.jobId);
          const accuser = job?.accuser ? validatorsByAddress.get(job.accuser) : undefined;
          if (job && job.cheated && accuser?.strategy === 'honest') {
            tally.honestDisputesOnCheats++;
            if (e.minerCorrect && e.votesFor > e.votesAgainst) tally.honestAuditorsOutvoted++;
          }
          break;
        }
        case 'job.settled': {
          const job = finishJob(e.jobId);
          tally.settledCount++;
          if (job) {
            // `token` mode escrows a converted amount: count what the client actually paid (in the job token)
            const paidMicro = P.pricingMode === 'token' ? jobPaidMicro(fx, e.jobId) : job.client.maxPrice * BigInt(job.rows) - e.refundMicro;
            tally.clientSpend += paidMicro;
            const m = byAddress.get(e.miner);
            const delivered = job.reps?.get(e.miner)?.hash ?? job.outHash;
            w.truth.settled({ level: job.client.verification, strategy: m?.strategy ?? 'unknown', wrong: delivered !== hashOf(job, 0), paidMicro, latencyMs: w.now - job.submittedAtMs });
            if (m) learnOutcome(m, job, 'settled', Number(e.priceMicro), { atMs: w.now });
          }
          break;
        }
        case 'job.failed':
          finishJob(e.jobId);
          break;
        case 'job.missed': {
          const job = jobs.get(e.jobId);
          const m = byAddress.get(e.miner);
          if (job && m) learnOutcome(m, job, 'missed', Number(e.penaltyMicro), { atMs: w.now });
          break;
        }
        case 'node.slashed': {
          const job = jobs.get(e.jobId);
          // the report keeps the first 10,000 slashes (memory stays bounded on long runs)
          if (tally.slashes.length < 10_000) tally.slashes.push({
            tMs: w.now,
            node: (byAddress.get(e.address) ?? validatorsByAddress.get(e.address))?.id ?? e.address,
            role: e.role,
            amountMicro: e.amountMicro.toString(),
            jobId: e.jobId,
            reason: e.reason,
          });
          if (e.role === 'validator') tally.validatorSlashes++;
          else if (job) {
            const rep = job.reps?.get(e.address);
            if (rep) job.cheated = rep.cheated;
            if (job.cheated) w.truth.caught(job.client.verification);
            if (job.cheated) {
              tally.cheatedSlashed++;
              tally.detectionSum += w.now - job.committedAtMs;
            } else tally.falseSlashes++;
            const m = byAddress.get(e.address);
            if (m && m.address === e.address && e.jailedUntilMs > m.jailedUntilMs) m.jailedUntilMs = e.jailedUntilMs;
            if (m) {
              learnOutcome(m, job, 'slashed', Number(e.amountMicro), {
                atMs: w.now,
                jailMs: Math.max(0, e.jailedUntilMs - w.now),
                ejected: e.ejected,
                restakeMicro: Number(e.ejected ? m.stakeTarget : e.amountMicro),
              });
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
  econ?.setup(mustSend);
  const faucetCap = P.faucetCapMicro;
  for (const m of miners) joinMiner(m);
  for (const v of validators) {
    const fund = v.fundTarget;
    if (fund > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: v.address, amountMicro: fund });
    v.funded = fund;
    mustSend({ type: 'node.register', atMs: 0, role: 'validator', models: v.models, region: v.region, encryptionKey: hashHex(`enc/${v.address}`), ...signedBy(w, v, 0) });
    const stake = v.stakeTarget < fund ? v.stakeTarget : fund;
    if (stake > 0n) mustSend({ type: 'stake.bond', atMs: 0, amountMicro: stake, ...signedBy(w, v, 0) });
  }
  for (const c of clients) {
    if (faucetCap > 0n) mustSend({ type: 'account.faucet', atMs: 0, address: c.address, amountMicro: faucetCap });
    if (c.rate > 0) queue.push(Math.ceil(rng.exp(1000 / c.rate)), { k: 'arrive', client: c });
  }
  if (P.epochMs < duration) queue.push(P.epochMs, { k: 'epoch' });
  const heartbeatEveryMs = Math.max(1, Math.floor(P.livenessWindowMs / 3));
  queue.push(heartbeatEveryMs, { k: 'heartbeat' });
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
    series.tMs.push(w.now);
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
    if ('slots' in a && P.matchingMode === 'offers') {
      // as the live gateway on a lost connection: the offer lapses; back online, the miner posts it again
      if (!up) {
        if (state.offers.has(a.address)) {
          const fx = send({ type: 'offer.lapse', atMs: w.now, address: a.address });
          if (fx) handle(fx);
        }
      } else postOffer(a);
    }
  }

  // --- main loop
  const progressEvery = Math.max(1, Math.floor(duration / 100));
  let nextProgress = progressEvery;
  for (;;) {
    const t = queue.peekTime();
    if (t > duration) break;
    const item = queue.pop()!;
    w.now = t;
    const now = t;
    tally.events++;
    if (options.onProgress && now >= nextProgress) {
      options.onProgress(now / duration);
      nextProgress = now + progressEvery;
    }
    if ('type' in item) {
      // skip what the rules would refuse or ignore — a vote or bid on a job that has moved on
      // (ERR_WRONG_STATE), a stale timer — rather than pay for it: the outcome is the same
      const ev = item;
      if (ev.type === 'timer.fire' ? !timerLive(state, ev.timer, now) : ev.type === 'job.bid' ? state.jobs.get(ev.jobId)?.status !== 'bidding' : ev.type === 'dispute.vote' && state.jobs.get(ev.jobId)?.status !== 'disputed') {
        // skipped
      } else {
        const fx = send(ev);
        if (fx) handle(fx);
      }
    } else switch (item.k) {
      case 'result': {
        if (item.inc !== item.miner.incarnation || !item.miner.online) break;
        const ev = item.ev;
        const sj = ev.type === 'job.result' ? state.jobs.get(ev.jobId) : undefined;
        if (ev.type === 'job.result' && sj?.verification === 'redundant') {
          // the driver compares each replica's output with the earlier ones (the sim's comparator is hash equality)
          ev.agreesWith = sj.replicas.filter((r) => r.outputHash === ev.outputHash && r.miner !== ev.by).map((r) => r.miner);
        }
        const fx = send(ev);
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
        const isHybrid = hybrid?.has(c) === true;
        if (isHybrid && hybrid!.arrive(c, model, model === 'charlm' ? c.tokens : 0) === 'cloud') break;
        const bal = state.ledger.get(`balance:${c.address}`) ?? 0n;
        // a batch job escrows its max price per row × rows
        if (c.inflight >= c.concurrency || bal < c.maxPrice * BigInt(c.rows)) {
          tally.throttled++;
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
          rows: c.rows,
          submittedAtMs: now,
          base,
          miner: null,
          out: 0,
          outHash: ZERO,
          cheated: false,
          arm: -1,
          costMicro: 0,
          committedAtMs: 0,
          reps: c.verification === 'redundant' ? new Map() : null,
          accuser: null,
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
          ...(c.verification !== 'sampled' ? { verification: c.verification } : {}),
          ...(c.rows > 1 ? { rows: c.rows } : {}),
          ...signedBy(w, c, now),
        });
        if (isHybrid) hybrid!.submitted(c, jobId, model, tokens, fx !== null);
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
      case 'econ':
        econ?.check();
        break;
      case 'hybrid':
        hybrid?.deadline(item.jobId);
        break;
      case 'heartbeat':
        // validators that are up prove liveness, as the live gateway does for connected nodes
        for (const v of w.validators) if (v.online) send({ type: 'node.heartbeat', atMs: now, address: v.address });
        queue.push(now + heartbeatEveryMs, item);
        break;
    }
    if (check) {
      tally.invariantChecks++;
      const v = checkInvariants(state);
      if (v.length) {
        tally.violations.push(...v.map((s) => `t=${now}: ${s}`));
        throw new InfermarketError('ERR_INTERNAL', `invariant violated at t=${now} (seed ${seed}): ${v.join('; ')}`, { details: { violations: v } });
      }
    }
  }
  w.now = duration;
  if (series.tMs[series.tMs.length - 1] !== w.now) sample();
  tally.invariantChecks++;
  tally.violations.push(...checkInvariants(state));
  options.onProgress?.(1);
  const report = buildReport(w, { scenario, resolved, masterSeed, overrides: options.overrides, duration, series });
  if (econ) report.economics = econ.report();
  if (hybrid) report.hybrid = hybrid.report();
  return report;
}
