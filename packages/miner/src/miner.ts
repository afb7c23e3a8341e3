import { randomBytes } from 'node:crypto';
import { InfermarketError, bpsOf, hashPayload, openJobKey, resolveParams, sealJson, unsealJson, worstCaseCost, type Canonical, type EncryptionKeyPair, type JobInput, type JobOutput, type KeyPair, type MinerStrategy, type Params, type ServerMessage } from '@infermarket/protocol';
import { OFFER_DEFAULTS, offerPrices, repricesAfterAssignment, basePriceFor, builtinMinerStrategy, createMinerStrategy, injectedDelay, outcome, rewardOf, type AdaptiveSettings, type JobOutcome, type Learner, type MinerStrategyModule, type ParticipationSettings, type Pricing } from '@infermarket/agents';
import { accountOf, nodeRng, startNode, type Executor, type Node } from '@infermarket/node-runtime';
import { fakeOutput } from './fake-output.js';
import { createMinerChurn, type MinerChurn } from './participation-live.js';
import { createMinerTraces } from './trace.js';

/** Options for `createMiner` (the scenario's `MinerGroup` fields plus where and who). */
export interface MinerOptions {
  /** Market node socket, e.g. `ws://127.0.0.1:8545/v1/nodes`. */
  wsUrl: string;
  keys: KeyPair;
  executor: Executor;
  models: string[];
  strategy?: MinerStrategy;
  /** A user's strategy module (`loadStrategyModule`), used instead of the built-in `strategy`. */
  strategyModule?: MinerStrategyModule;
  /** Variant claimed to the market (default int8). */
  variant?: string;
  region?: string;
  stakeMicro?: bigint;
  /** Ask the market's faucet for what the stake needs (default true; off for markets without a faucet). */
  useFaucet?: boolean;
  /** Balance to ask the faucet for when the account is new (stake included; the scenario resolver's `fundMicro`): what it can restake from after a slash. Default: just the stake. */
  fundMicro?: bigint;
  pricing?: Pricing;
  concurrency?: number;
  latencyMs?: number;
  jitterMs?: number;
  cheatProbability?: number;
  slowExtraMs?: number;
  /** `flaky`: chance per job offered for bids (auction) or assigned (standing offers) to drop the connection for `flakyDownMs` (default 0). */
  disconnectProbability?: number;
  flakyDownMs?: number;
  /** `adaptive`: compute cost per CPU-second (micro-mUSD) counted against profit (default 1,000, as the simulator). */
  costPerCpuSecondMicro?: number;
  /** `adaptive`: the learner and its knobs — the scenario's `sim.adaptive`, the same settings the simulator uses. */
  adaptive?: AdaptiveSettings;
  /** Seeds every random choice of this miner. */
  seed?: number | string;
  /**
   * Costs in dollars and price-driven churn (docs/economics.md): the participation rule leaves (withdraws the
   * offer, stops bidding) while the expected USD profit per job stays negative, and returns when it recovers.
   */
  churn?: { costUsdMicroPerComputeSecond: number; settings?: Partial<ParticipationSettings> };
  /** One JSON object per line (default: stderr). */
  log?: (entry: Record<string, unknown>) => void;
}

/** Counters of a miner, for its log and the testnet's report. */
export interface MinerStats {
  /** Auction: jobs offered for bids (`job.offer`). */
  offers: number;
  /** Standing offers posted (`matchingMode: offers`), refreshes and re-posts after a reconnect included. */
  offersPosted: number;
  bids: number;
  bidsRefused: number;
  assigned: number;
  committed: number;
  dropped: number;
  settled: number;
  lost: number;
  slashes: number;
  earnedMicro: bigint;
  slashedMicro: bigint;
  cheated: number;
}

/** A running miner. */
export interface Miner {
  readonly address: string;
  /** Resolves once connected, registered and bonded. */
  ready(): Promise<void>;
  stats(): MinerStats;
  /** Its strategy's learner (the built-in `adaptive` miner's; null when it shows none). */
  bandit(): Learner | null;
  stop(): Promise<void>;
}

/**
 * A miner process's logic: log in, register, fund and bond, bid on offers, run assigned jobs on the
 * executor with its strategy, stream tokens, commit signed results. Reconnects when the market restarts.
 */
export function createMiner(options: MinerOptions): Miner {
  if (options.strategyModule && options.strategy) throw new InfermarketError('ERR_VALIDATION', `MinerOptions: give "strategy" (a built-in) or "strategyModule" (a loaded module), not both`);
  const strategyMod = options.strategyModule ?? builtinMinerStrategy(options.strategy ?? 'honest');
  // its name in logs and reports: the built-in's, or the module's declared name
  const strategy = strategyMod.name;
  const variant = options.variant ?? 'int8';
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const seed = options.seed ?? 0;
  const address = options.keys.address;
  const rng = nodeRng(seed, 'miner', address, 'plan');
  const bidRng = nodeRng(seed, 'miner', address, 'bid');
  const delayRng = nodeRng(seed, 'miner', address, 'delay');
  const fakeRng = nodeRng(seed, 'miner', address, 'fake');
  // the strategy, created as the simulator creates it (the adaptive learner: same defaults and settings; a bad setting throws here)
  const decide = createMinerStrategy(strategyMod, {
    variant,
    ...(options.cheatProbability !== undefined ? { cheatProbability: options.cheatProbability } : {}),
    ...(options.slowExtraMs !== undefined ? { slowExtraMs: options.slowExtraMs } : {}),
    ...(options.adaptive !== undefined ? { adaptive: options.adaptive } : {}),
    // the public rules as the market announced them (the `bayes` learner's prior); this miner has no colluding
    // validators, so under the rules an audited skipped result is slashed (slashGivenAudit 1)
    rules: () => {
      const p = marketParams();
      return { auditRate: p.auditRate, slashGivenAudit: 1, slashMicro: Number(bpsOf(stakeTarget, p.slashFractionBps)), jailMs: p.jailDurationMs };
    },
    rng: nodeRng(seed, 'miner', address, 'bandit'),
  });
  const learner = decide.learner ?? null;
  const log = options.log ?? ((e) => process.stderr.write(`${JSON.stringify({ t: Date.now(), role: 'miner', ...e })}\n`));
  const pricing: Pricing = options.pricing ?? { priceMicro: '10000' };
  const stakeTarget = options.stakeMicro ?? 500_000_000n;
  const stats: MinerStats = { offers: 0, offersPosted: 0, bids: 0, bidsRefused: 0, assigned: 0, committed: 0, dropped: 0, settled: 0, lost: 0, slashes: 0, earnedMicro: 0n, slashedMicro: 0n, cheated: 0 };
  const lastOutput = new Map<string, JobOutput>();
  // layer traces committed with results, opened in a bisection dispute
  const traces = createMinerTraces({ executor: options.executor, log: (e) => log(e) });
  const played = new Map<string, { costMicro: number }>();
  let active = 0;
  const queue: (() => void)[] = [];
  let stopped = false;

  // the market's parameters as it announced them at login, resolved once per login
  let paramsSrc: Record<string, string | number> | null = null;
  let params: Params = resolveParams();
  const marketParams = (): Params => {
    const src = node.conn.params();
    if (src !== paramsSrc) {
      paramsSrc = src;
      params = resolveParams(src);
    }
    return params;
  };

  const acquire = (): Promise<void> =>
    active < concurrency ? (active++, Promise.resolve()) : new Promise((r) => queue.push(() => (active++, r())));
  const release = (): void => {
    active--;
    queue.shift()?.();
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  const onOffer = (msg: Extract<ServerMessage, { type: 'job.offer' }>): void => {
    stats.offers++;
    if (!node.registered() || active + queue.length >= concurrency || churn?.active() === false) return;
    if (!options.models.includes(msg.model)) return;
    const baseMicro = basePriceFor(pricing, msg.model);
    if (baseMicro === null) return;
    const p = marketParams();
    // the protocol's own worst-case cost (price + fees): a bid the market would refuse is not sent
    const price = decide.bidPrice({ model: msg.model, baseMicro, spreadBps: pricing.spreadBps ?? 0, maxPriceMicro: BigInt(msg.maxPriceMicro), worstCase: (pr) => worstCaseCost({ params: p }, pr, msg.verification) }, bidRng);
    if (price === null) return;
    stats.bids++;
    node.conn.request({ type: 'job.bid', envelope: node.conn.seal('job.bid', { jobId: msg.jobId, priceMicro: price }) as never }).catch((e: Error) => {
      stats.bidsRefused++;
      log({ event: 'bid.refused', jobId: msg.jobId, error: e.message });
    });
    maybeDisconnect();
  };

  /** `flaky`: after an accepted offer (auction) or an assignment (standing offers), drop the connection with `disconnectProbability`. */
  const maybeDisconnect = (): void => {
    if (strategy === 'flaky' && (options.disconnectProbability ?? 0) > 0 && rng.next() < options.disconnectProbability!) {
      log({ event: 'flaky.disconnect', downMs: options.flakyDownMs ?? 2_000 });
      node.conn.drop();
    }
  };

  // standing offers (matchingMode offers): one signed offer, priced by the strategy's bid rule, capacity = concurrency;
  // posted at every login (a lost connection lapses it) and refreshed before it expires
  let offerTimer: NodeJS.Timeout | null = null;
  const postOffer = (): void => {
    if (offerTimer) clearTimeout(offerTimer);
    offerTimer = null;
    const p = marketParams();
    if (stopped || p.matchingMode !== 'offers' || !node.registered() || churn?.active() === false) return;
    const prices = offerPrices({ decide, models: options.models, baseOf: (m) => basePriceFor(pricing, m), spreadBps: pricing.spreadBps ?? 0, params: p, rng: bidRng });
    if (Object.keys(prices).length === 0) {
      log({ event: 'offer.none', reason: 'the strategy prices none of its models' });
      return;
    }
    const untilMs = node.conn.marketNow() + OFFER_DEFAULTS.offerTtlMs;
    stats.offersPosted++;
    node.conn
      .request({ type: 'offer.post', envelope: node.conn.seal('offer.post', { prices: Object.fromEntries(Object.entries(prices).map(([m, v]) => [m, v.toString()])), capacity: concurrency, variant, untilMs }) as never })
      .then(() => log({ event: 'offer.posted', prices: Object.fromEntries(Object.entries(prices).map(([m, v]) => [m, v.toString()])), capacity: concurrency, untilMs }))
      .catch((e: Error) => log({ event: 'offer.refused', error: e.message }));
    offerTimer = setTimeout(postOffer, OFFER_DEFAULTS.offerTtlMs - OFFER_DEFAULTS.refreshBeforeMs);
    offerTimer.unref();
  };

  const runJob = async (msg: Extract<ServerMessage, { type: 'job.assign' }>): Promise<void> => {
    stats.assigned++;
    await acquire();
    const conn = node.conn;
    try {
      const deadlineMs = marketParams().jobDeadlineMs;
      const plan = decide.planJob({ jobId: msg.jobId, model: msg.model, priceMicro: BigInt(msg.priceMicro), deadlineMs, hasReplay: lastOutput.has(msg.model) }, rng);
      played.set(msg.jobId, { costMicro: 0 });
      if (marketParams().matchingMode === 'offers') maybeDisconnect();
      if (plan.kind === 'drop') {
        stats.dropped++;
        log({ event: 'job.dropped', jobId: msg.jobId });
        return;
      }
      // injected network/queue latency comes first, so the client sees it in time to first token too
      const latency = injectedDelay(options.latencyMs ?? 0, options.jitterMs ?? 0, delayRng);
      if (latency > 0) await sleep(latency);
      // a private job: open the job key the client sealed to us, then the input sealed to the job key
      let jobKeys: EncryptionKeyPair | null = null;
      let input: JobInput = msg.input;
      if (msg.input.kind === 'sealed') {
        if (!msg.jobKey) throw new Error(`private job ${msg.jobId} came without its job key`);
        jobKeys = openJobKey(node.encKeys, msg.jobKey, msg.input.sealed.to);
        input = unsealJson<JobInput>(jobKeys, msg.input.sealed);
      }
      // private jobs stream no tokens: they would pass the market in the clear
      const stream = (index: number, token: number, text: string): void => {
        if (!jobKeys) void conn.send({ type: 'job.token', jobId: msg.jobId, index, token, text });
      };
      let output: JobOutput;
      let ms = 0;
      if (plan.kind === 'run') {
        const r = await traces.execute({ jobId: msg.jobId, model: msg.model, variant: plan.variant, input, inputHash: msg.inputHash, traced: !jobKeys && marketParams().disputeMode === 'bisection', onToken: (t) => stream(t.index, t.token, t.text) });
        output = r.output;
        ms = r.ms;
        if (plan.variant !== variant) stats.cheated++;
      } else {
        stats.cheated++;
        output = plan.kind === 'replay' ? lastOutput.get(msg.model)! : fakeOutput(input, options.executor.outputDims(msg.model, input), fakeRng);
        if (output.kind === 'tokens') output.tokens.forEach((t, i) => stream(i, t, String.fromCharCode(t + 31)));
      }
      if (plan.kind === 'run') churn?.observeJob(Number(msg.priceMicro), ms / 1000);
      const pl = played.get(msg.jobId);
      if (pl) pl.costMicro = (ms / 1000) * (options.costPerCpuSecondMicro ?? 1_000);
      if (plan.extraDelayMs > 0) await sleep(plan.extraDelayMs);
      if (stopped) return;
      lastOutput.set(msg.model, output);
      const envelope = conn.seal('job.result', { jobId: msg.jobId, inputHash: msg.inputHash, outputHash: hashPayload(output), ...traces.commitment(msg.jobId) });
      // private: the signed hash is of the plaintext; the output itself goes sealed to the job key (the client's)
      const sent: JobOutput = jobKeys ? { kind: 'sealed', sealed: sealJson(jobKeys.publicKey, output as unknown as Canonical, randomBytes(56)) } : output;
      try {
        await conn.request({ type: 'job.result', envelope: envelope as never, output: sent });
        stats.committed++;
        log({ event: 'job.committed', jobId: msg.jobId, model: msg.model, plan: plan.kind, ms: Math.round(ms * 100) / 100 });
      } catch (e) {
        log({ event: 'result.refused', jobId: msg.jobId, error: (e as Error).message });
      }
    } catch (e) {
      log({ event: 'job.error', jobId: msg.jobId, error: (e as Error).message });
    } finally {
      release();
    }
  };

  /** Teach the learner what became of a job it played (once per job), as the agents define the outcome. */
  const learn = (jobId: string, kind: JobOutcome['kind'], amountMicro: number, extra: Partial<JobOutcome> = {}): void => {
    const p = played.get(jobId);
    if (!p) return;
    played.delete(jobId);
    const o = outcome[kind](amountMicro, p.costMicro, { atMs: Date.now(), ...extra });
    const details = decide.learn?.(jobId, o);
    // reward (in details): what the learner was charged (full cost); realised: paid − slashed − penalty − compute
    if (learner || details) log({ event: 'learned', jobId, outcome: kind, ...details, realised: rewardOf(o) });
  };

  /** After a slash, bond from the balance back toward the target stake (no faucet), as the simulator's miners do. */
  const restake = async (): Promise<void> => {
    try {
      const acct = await accountOf(node.httpUrl, address);
      const need = stakeTarget - acct.stakeMicro;
      const amount = acct.balanceMicro < need ? acct.balanceMicro : need;
      if (amount <= 0n) return;
      await node.conn.request({ type: 'stake.bond', envelope: node.conn.seal('stake.bond', { amountMicro: amount }) as never });
      log({ event: 'restaked', amountMicro: amount.toString() });
    } catch (e) {
      log({ event: 'restake.failed', error: (e as Error).message });
    }
  };

  const onMessage = (msg: ServerMessage): void => {
    switch (msg.type) {
      case 'job.offer':
        return onOffer(msg);
      case 'job.assign':
        // standing offers: re-price after each assignment (the strategy's bid rule drawn again, as the simulator does)
        if (marketParams().matchingMode === 'offers' && repricesAfterAssignment(pricing.spreadBps ?? 0)) postOffer();
        void runJob(msg);
        return;
      case 'bisect.turn':
        void traces.onTurn(msg, node.conn);
        return;
      case 'job.settled':
        traces.forget(msg.jobId);
        stats.settled++;
        stats.earnedMicro += BigInt(msg.paidMicro);
        learn(msg.jobId, 'settled', Number(msg.paidMicro));
        return;
      case 'job.lost':
        traces.forget(msg.jobId);
        stats.lost++;
        // a missed deadline teaches minus the full penalty the rules took (as in the simulator); an outbid
        // job was never played, and a slashed one is taught by the `slashed` message
        if (msg.reason === 'missed-deadline') {
          if (msg.penaltyMicro === undefined) log({ event: 'learn.error', jobId: msg.jobId, error: 'job.lost (missed-deadline) without penaltyMicro: the market is older than this miner' });
          else learn(msg.jobId, 'missed', Number(msg.penaltyMicro));
        }
        log({ event: 'job.lost', jobId: msg.jobId, reason: msg.reason, ...(msg.penaltyMicro !== undefined ? { penaltyMicro: msg.penaltyMicro } : {}) });
        return;
      case 'slashed':
        stats.slashes++;
        stats.slashedMicro += BigInt(msg.amountMicro);
        {
          // what the slash costs beyond the amount, from the market's announced params (as the simulator
          // reads them from the slash): the jail, ejection after maxSlashes, and the stake to post again
          const p = marketParams();
          const ejected = stats.slashes >= p.maxSlashes;
          learn(msg.jobId, 'slashed', Number(msg.amountMicro), { jailMs: p.jailDurationMs, ejected, restakeMicro: Number(ejected ? stakeTarget : BigInt(msg.amountMicro)) });
        }
        log({ event: 'slashed', jobId: msg.jobId, amountMicro: msg.amountMicro, reason: msg.reason });
        void restake();
        return;
      default:
        return;
    }
  };

  // price-driven churn: the agents' participation rule on the market's public oracle (participation-live.ts)
  const churn: MinerChurn | null = options.churn
    ? createMinerChurn({
        costUsdMicroPerComputeSecond: options.churn.costUsdMicroPerComputeSecond,
        ...(options.churn.settings ? { settings: options.churn.settings } : {}),
        defaultAskMicro: meanBasePrice(),
        readOracle: async () => {
          const res = await fetch(`${node.httpUrl}/v1/oracle`, { signal: AbortSignal.timeout(5_000) });
          return res.ok ? ((await res.json()) as { pricingMode: Params['pricingMode']; priceMicro: string | null }) : null;
        },
        onLeave: () => {
          if (offerTimer) clearTimeout(offerTimer);
          offerTimer = null;
          if (marketParams().matchingMode !== 'offers' || !node.registered()) return;
          node.conn
            .request({ type: 'offer.withdraw', envelope: node.conn.seal('offer.withdraw', {}) as never })
            .then(() => log({ event: 'offer.withdrawn' }))
            .catch((e: Error) => log({ event: 'offer.withdraw.refused', error: e.message }));
        },
        onReturn: () => postOffer(),
        log,
      })
    : null;
  function meanBasePrice(): number {
    const ps = options.models.map((m) => basePriceFor(pricing, m)).filter((x): x is bigint => x !== null);
    return ps.length ? Number(ps.reduce((a, b) => a + b, 0n)) / ps.length : 0;
  }

  const node: Node = startNode({
    wsUrl: options.wsUrl,
    keys: options.keys,
    role: 'miner',
    models: options.models,
    variant,
    region: options.region ?? 'local',
    stakeMicro: stakeTarget,
    useFaucet: options.useFaucet !== false,
    ...(options.fundMicro !== undefined ? { fundMicro: options.fundMicro } : {}),
    reconnectMinMs: strategy === 'flaky' ? (options.flakyDownMs ?? 2_000) : 250,
    onMessage,
    log,
    onRegistered: ({ stakeMicro }) => {
      log({ event: 'ready', address, strategy, variant, stakeMicro: stakeMicro.toString(), ...(learner ? { learner: learner.name, cheatLevels: learner.levels } : {}) });
      postOffer();
      churn?.start();
    },
  });

  return {
    address,
    ready: () => node.ready(),
    stats: () => ({ ...stats }),
    bandit: () => learner,
    async stop() {
      stopped = true;
      churn?.stop();
      if (offerTimer) clearTimeout(offerTimer);
      await node.stop();
    },
  };
}
