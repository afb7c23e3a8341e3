import { randomBytes } from 'node:crypto';
import { hashPayload, nodeEncryptionKeys, openJobKey, sealJson, unsealJson, type Canonical, type EncryptionKeyPair, type JobInput, type JobOutput, type KeyPair, type MinerStrategy, type ServerMessage } from '@infermarket/protocol';
import { createCheatBandit, type CheatBandit } from './bandit.js';
import { createNodeConnection, type NodeConnection } from './connection.js';
import type { Executor } from './executor.js';
import { createNodeRng } from './prng.js';
import { accountOf, ensureRegistered, httpUrlOf } from './setup.js';
import { bidPrice, fakeOutput, injectedDelay, planJob } from './strategy.js';

/** Options for `createMiner` (the scenario's `MinerGroup` fields plus where and who). */
export interface MinerOptions {
  /** Market node socket, e.g. `ws://127.0.0.1:8545/v1/nodes`. */
  wsUrl: string;
  keys: KeyPair;
  executor: Executor;
  models: string[];
  strategy?: MinerStrategy;
  /** Variant claimed to the market (default int8). */
  variant?: string;
  region?: string;
  stakeMicro?: bigint;
  /** Ask the market's faucet for what the stake needs (default true; off for markets without a faucet). */
  useFaucet?: boolean;
  pricing?: { priceMicro: string | Record<string, string>; spreadBps?: number };
  concurrency?: number;
  latencyMs?: number;
  jitterMs?: number;
  cheatProbability?: number;
  slowExtraMs?: number;
  /** `flaky`: chance per accepted offer to drop the connection for `flakyDownMs` (default 0). */
  disconnectProbability?: number;
  flakyDownMs?: number;
  /** `adaptive`: compute cost per CPU-second (micro-mUSD) counted against profit (default 1,000, as the simulator). */
  costPerCpuSecondMicro?: number;
  /** Seeds every random choice of this miner. */
  seed?: number | string;
  /** One JSON object per line (default: stderr). */
  log?: (entry: Record<string, unknown>) => void;
}

/** Counters of a miner, for its log and the testnet's report. */
export interface MinerStats {
  offers: number;
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
  bandit(): CheatBandit | null;
  stop(): Promise<void>;
}

/**
 * A miner process's logic: log in, register, fund and bond, bid on offers, run assigned jobs on the
 * executor with its strategy, stream tokens, commit signed results. Reconnects when the market restarts.
 */
export function createMiner(options: MinerOptions): Miner {
  const strategy = options.strategy ?? 'honest';
  const variant = options.variant ?? 'int8';
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const seed = options.seed ?? 0;
  const rng = createNodeRng(seed, `miner/${options.keys.address}/plan`);
  const bidRng = createNodeRng(seed, `miner/${options.keys.address}/bid`);
  const delayRng = createNodeRng(seed, `miner/${options.keys.address}/delay`);
  const fakeRng = createNodeRng(seed, `miner/${options.keys.address}/fake`);
  const bandit = strategy === 'adaptive' ? createCheatBandit(createNodeRng(seed, `miner/${options.keys.address}/bandit`)) : null;
  const log = options.log ?? ((e) => process.stderr.write(`${JSON.stringify({ t: Date.now(), role: 'miner', ...e })}\n`));
  const httpUrl = httpUrlOf(options.wsUrl);
  const pricing = options.pricing ?? { priceMicro: '10000' };
  const stats: MinerStats = { offers: 0, bids: 0, bidsRefused: 0, assigned: 0, committed: 0, dropped: 0, settled: 0, lost: 0, slashes: 0, earnedMicro: 0n, slashedMicro: 0n, cheated: 0 };
  const lastOutput = new Map<string, JobOutput>();
  // x25519 key for private jobs, derived from the signing key and published in the signed registration
  const encKeys = nodeEncryptionKeys(options.keys);
  const played = new Map<string, { arm: number; costMicro: number }>();
  let active = 0;
  const queue: (() => void)[] = [];
  let registered = false;
  let setupDone = false;
  let stopped = false;
  let readyResolve: () => void = () => {};
  const readyP = new Promise<void>((r) => (readyResolve = r));

  const acquire = (): Promise<void> =>
    active < concurrency ? (active++, Promise.resolve()) : new Promise((r) => queue.push(() => (active++, r())));
  const release = (): void => {
    active--;
    queue.shift()?.();
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  const onOffer = (msg: Extract<ServerMessage, { type: 'job.offer' }>): void => {
    stats.offers++;
    if (!registered || active + queue.length >= concurrency) return;
    if (!options.models.includes(msg.model)) return;
    const p = conn.params();
    const feeBps = Number(p.protocolFeeBps ?? 200) + Number(p.validatorFeeBps ?? 10_000);
    const price = bidPrice({ pricing, model: msg.model, maxPriceMicro: BigInt(msg.maxPriceMicro), feeBps, rng: bidRng });
    if (price === null) return;
    stats.bids++;
    conn.request({ type: 'job.bid', envelope: conn.seal('job.bid', { jobId: msg.jobId, priceMicro: price }) as never }).catch((e: Error) => {
      stats.bidsRefused++;
      log({ event: 'bid.refused', jobId: msg.jobId, error: e.message });
    });
    if (strategy === 'flaky' && (options.disconnectProbability ?? 0) > 0 && rng.next() < options.disconnectProbability!) {
      log({ event: 'flaky.disconnect', downMs: options.flakyDownMs ?? 2_000 });
      conn.drop();
    }
  };

  const runJob = async (msg: Extract<ServerMessage, { type: 'job.assign' }>): Promise<void> => {
    stats.assigned++;
    await acquire();
    try {
      const deadlineMs = Number(conn.params().jobDeadlineMs ?? 3_000);
      let adaptiveP: number | undefined;
      let arm = -1;
      if (bandit) {
        arm = bandit.choose();
        adaptiveP = bandit.probability(arm);
      }
      const plan = planJob({ strategy, variant, ...(options.cheatProbability !== undefined ? { cheatProbability: options.cheatProbability } : {}), ...(options.slowExtraMs !== undefined ? { slowExtraMs: options.slowExtraMs } : {}) }, { deadlineMs, hasReplay: lastOutput.has(msg.model), ...(adaptiveP !== undefined ? { adaptiveP } : {}) }, rng);
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
        jobKeys = openJobKey(encKeys, msg.jobKey, msg.input.sealed.to);
        input = unsealJson<JobInput>(jobKeys, msg.input.sealed);
      }
      // private jobs stream no tokens: they would pass the market in the clear
      const stream = (index: number, token: number, text: string): void => {
        if (!jobKeys) void conn.send({ type: 'job.token', jobId: msg.jobId, index, token, text });
      };
      let output: JobOutput;
      let ms = 0;
      if (plan.kind === 'run') {
        const r = await options.executor.execute({ model: msg.model, variant: plan.variant, input, onToken: (t) => stream(t.index, t.token, t.text) });
        output = r.output;
        ms = r.ms;
        if (plan.variant !== variant) stats.cheated++;
      } else {
        stats.cheated++;
        output = plan.kind === 'replay' ? lastOutput.get(msg.model)! : fakeOutput(input, options.executor.outputDims(msg.model, input), fakeRng);
        if (output.kind === 'tokens') output.tokens.forEach((t, i) => stream(i, t, String.fromCharCode(t + 31)));
      }
      if (bandit) played.set(msg.jobId, { arm, costMicro: (ms / 1000) * (options.costPerCpuSecondMicro ?? 1_000) });
      if (plan.extraDelayMs > 0) await sleep(plan.extraDelayMs);
      if (stopped) return;
      lastOutput.set(msg.model, output);
      const envelope = conn.seal('job.result', { jobId: msg.jobId, inputHash: msg.inputHash, outputHash: hashPayload(output) });
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

  const learn = (jobId: string, profitMicro: number): void => {
    const p = played.get(jobId);
    if (!bandit || !p) return;
    played.delete(jobId);
    bandit.reward(p.arm, profitMicro - p.costMicro);
  };

  /** After a slash, bond from the balance back toward the target stake (no faucet), as the simulator's miners do. */
  const restake = async (): Promise<void> => {
    try {
      const target = options.stakeMicro ?? 500_000_000n;
      const acct = await accountOf(httpUrl, options.keys.address);
      const need = target - acct.stakeMicro;
      const amount = acct.balanceMicro < need ? acct.balanceMicro : need;
      if (amount <= 0n) return;
      await conn.request({ type: 'stake.bond', envelope: conn.seal('stake.bond', { amountMicro: amount }) as never });
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
        void runJob(msg);
        return;
      case 'job.settled':
        stats.settled++;
        stats.earnedMicro += BigInt(msg.paidMicro);
        learn(msg.jobId, Number(msg.paidMicro));
        return;
      case 'job.lost':
        stats.lost++;
        learn(msg.jobId, 0);
        log({ event: 'job.lost', jobId: msg.jobId, reason: msg.reason });
        return;
      case 'slashed':
        stats.slashes++;
        stats.slashedMicro += BigInt(msg.amountMicro);
        learn(msg.jobId, -Number(msg.amountMicro));
        log({ event: 'slashed', jobId: msg.jobId, amountMicro: msg.amountMicro, reason: msg.reason });
        void restake();
        return;
      default:
        return;
    }
  };

  const conn: NodeConnection = createNodeConnection({
    wsUrl: options.wsUrl,
    keys: options.keys,
    onMessage,
    reconnectMinMs: strategy === 'flaky' ? (options.flakyDownMs ?? 2_000) : 250,
    log: (line) => log({ event: 'conn', msg: line }),
    onClose: ({ willReconnect }) => {
      registered = false;
      log({ event: 'disconnected', willReconnect });
    },
    onReady: async () => {
      const { stakeMicro } = await ensureRegistered(conn, options.keys, httpUrl, {
        role: 'miner',
        models: options.models,
        variant,
        region: options.region ?? 'local',
        encryptionKey: encKeys.publicKey,
        // bond up to the target once; after a reconnect the stake is what the market left (slashes stay visible)
        stakeMicro: setupDone ? 0n : (options.stakeMicro ?? 500_000_000n),
        useFaucet: options.useFaucet !== false,
      });
      setupDone = true;
      registered = true;
      log({ event: 'ready', address: options.keys.address, strategy, variant, stakeMicro: stakeMicro.toString() });
      readyResolve();
    },
  });

  return {
    address: options.keys.address,
    ready: () => readyP,
    stats: () => ({ ...stats }),
    bandit: () => bandit,
    async stop() {
      stopped = true;
      await conn.close();
    },
  };
}
