import { randomBytes } from 'node:crypto';
import {
  InfermarketError,
  apply,
  createState,
  resolveParams,
  sealEnvelope,
  toHex,
  type Effect,
  outputLength,
  receiptChecks,
  type Job,
  type JobInput,
  type JobOutput,
  type KeyPair,
  type MarketEvent,
  type MarketState,
  type Params,
  type ReceiptBody,
  type Timer,
  timerLive,
} from '@infermarket/protocol';
import type { Logger } from 'pino';
import { decodeJson, encodeJson } from './codec.js';
import type { ModelSpec } from './models.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import type { CommitItem, JobRow, MarketStore, PayloadRow } from './store.js';

/** What the driver knows about a job beyond the rules' state: timings, the signed result and receipt. */
export interface JobExtra {
  ttftMs: number | null;
  latencyMs: number | null;
  /** JSON of the miner's signed result envelope. */
  result: string | null;
  /** JSON of the market's signed receipt envelope. */
  receipt: string | null;
  tokens: number;
}

/** Listener for every accepted event and the effects it produced, called after the commit. */
export type EffectListener = (effects: readonly Effect[], event: MarketEvent) => void;

/** Options for `createCore`. */
export interface CoreOptions {
  store: MarketStore;
  specs: Map<string, ModelSpec>;
  /** Parameter overrides for a new file; a file that already has parameters keeps its own. */
  params?: Record<string, unknown>;
  /** The run's seed, recorded in every output. It derives nothing secret: the signing key is `keys`. */
  seed: number;
  /** The market's signing key (`loadOrCreateMarketKey`): random, kept in an owner-only file beside the database. */
  keys: KeyPair;
  logger: Logger;
  /** Wall clock, absolute ms. Default `Date.now`. */
  now?: () => number;
  /** Source of the epoch seeds (32 random bytes as hex). Default `crypto.randomBytes`: the market is the driver. */
  randomSeed?: () => string;
  /**
   * After a restart on a file with events, the market clock stands still this long (nodes reconnect),
   * on top of not counting the time it was down. Default `CORE_DEFAULTS.restartGraceMs`.
   */
  restartGraceMs?: number;
  /**
   * Group commit: most events written in one transaction. Events are applied at once and written at the end
   * of the event loop's turn (or as soon as this many are waiting). Default `CORE_DEFAULTS.maxBatchEvents`.
   */
  maxBatchEvents?: number;
}

/** Defaults of the driver (not protocol parameters: they concern the process, not the rules). */
export const CORE_DEFAULTS = Object.freeze({
  /** A miner's reconnect backoff reaches 4 s: every deadline and window gets this long after a restart. */
  restartGraceMs: 5_000,
  /** Group commit: a batch is written at the end of the turn, or once it holds this many events. */
  maxBatchEvents: 4_096,
});

/** The driver of the rules: applies events, persists them, schedules timers, signs receipts, tells listeners. */
export interface MarketCore {
  readonly state: MarketState;
  readonly store: MarketStore;
  readonly specs: Map<string, ModelSpec>;
  readonly params: Params;
  readonly seed: number;
  readonly keys: KeyPair;
  /** Market public key, hex: receipts are signed by it. */
  readonly marketKey: string;
  readonly startedAtMs: number;
  /**
   * Wall-clock ms the market clock is behind `Date.now()`: the time it was down (and the restart grace),
   * which is never charged to anyone. 0 on a fresh file.
   */
  readonly pausedMs: number;
  readonly scheduler: Scheduler;
  /** Number of events replayed from the file at start. */
  readonly replayed: number;
  /** The market clock: wall-clock ms minus `pausedMs` (the time the market was down), never behind the rules' time. */
  now(): number;
  /**
   * Apply one event now (a rejected event throws and changes nothing) and queue it, with its journal entries,
   * payloads and job rows, for the next group commit: every event of one turn of the event loop is written in
   * ONE transaction (`flush`). Timers are armed and listeners told only once the batch is written, so nothing
   * that leaves the process (a pushed job, a receipt) is ahead of the log. Whoever acknowledges the event to
   * its sender (an HTTP response, a WebSocket ack) must `await core.durable()` first.
   */
  step(event: MarketEvent, extra?: { payloads?: PayloadRow[]; beforeCommit?: (fx: readonly Effect[]) => void }): Effect[];
  /**
   * Resolves once every event stepped so far is written to the file (at once when nothing is waiting);
   * rejects with `ERR_INTERNAL` if that write failed.
   */
  durable(): Promise<void>;
  /** Write the waiting batch now (also called at the end of each turn, by `close`, and by tests). */
  flush(): void;
  /** A job's payload (`input`, `output`, `audit:<address>`): from memory while its job is live, else from the file. */
  payload(jobId: string, kind: string): unknown;
  extra(jobId: string): JobExtra;
  onEffects(fn: EffectListener): () => void;
  /** Start the epoch loop and fire overdue timers. */
  start(): void;
  stop(): void;
}

function timerKey(t: Timer): string {
  return 'address' in t ? `${t.kind}:${t.address}` : `${t.kind}:${t.jobId}:${'attempt' in t ? t.attempt : ''}`;
}

/** Jobs an event or its effects touch. */
function touchedJobs(event: MarketEvent, fx: readonly Effect[]): Set<string> {
  const ids = new Set<string>();
  if ('jobId' in event && typeof event.jobId === 'string') ids.add(event.jobId);
  if (event.type === 'timer.fire' && 'jobId' in event.timer) ids.add(event.timer.jobId);
  for (const e of fx) if ('jobId' in e && typeof e.jobId === 'string') ids.add(e.jobId);
  return ids;
}

/**
 * Create the driver on a store: a file with events is replayed into a fresh state (`createState` +
 * `apply`) and its unfired timers are re-armed on `start()` (overdue ones fire at once).
 * @throws InfermarketError `ERR_INTERNAL` if the stored log does not replay.
 */
export function createCore(options: CoreOptions): MarketCore {
  const { store, specs, logger } = options;
  const wall = options.now ?? Date.now;
  const randomSeed = options.randomSeed ?? ((): string => randomBytes(32).toString('hex'));
  const storedParams = store.getMeta('params');
  const params = storedParams ? resolveParams(decodeJson<Record<string, unknown>>(storedParams)) : resolveParams(options.params ?? {});
  if (storedParams && options.params && Object.keys(options.params).length) {
    logger.warn({ db: store.path }, 'the database already has parameters; the given overrides are ignored');
  }
  const storedSeed = store.getMeta('seed');
  // the file keeps its seed (recorded in outputs); the signing key lives in its own file, never derived from it
  const seed = storedSeed !== undefined ? Number(storedSeed) : options.seed;
  if (storedSeed !== undefined && Number(storedSeed) !== options.seed) {
    logger.warn({ db: store.path, seed, given: options.seed }, 'the database already has a seed; keeping it');
  }
  const keys = options.keys;
  const storedKey = store.getMeta('marketKey');
  // receipts signed before a restart must still verify after it: the same file must come with the same key
  if (storedKey !== undefined && storedKey !== toHex(keys.publicKey)) {
    throw new InfermarketError(
      'ERR_VALIDATION',
      `the database ${store.path} was signed by market key ${storedKey}, but the key given is ${toHex(keys.publicKey)}: point --key-file at the key file that was made with this database`,
      { details: { field: 'keyFile' } },
    );
  }
  if (storedKey === undefined) store.setMeta('marketKey', toHex(keys.publicKey));
  const storedModels = decodeJson<string[]>(store.getMeta('models') ?? '[]');
  const models = [...new Set([...storedModels, ...specs.keys()])];
  if (!storedParams) store.setMeta('params', encodeJson(params));
  store.setMeta('seed', String(seed));
  store.setMeta('models', JSON.stringify(models));

  // each model's committed trace length (bisection disputes): a trace of another length is refused by the rules
  const traceLayers = Object.fromEntries([...specs.values()].flatMap((s) => (s.traceLayers ? [[s.id, s.traceLayers] as const] : [])));
  const state = createState({ params, models, traceLayers });
  const listeners = new Set<EffectListener>();
  const extras = new Map<string, JobExtra>();
  for (const row of store.jobRows().values()) {
    extras.set(row.id, { ttftMs: row.ttftMs, latencyMs: row.latencyMs, result: row.result, receipt: row.receipt, tokens: 0 });
  }

  // replay: re-apply the log; timers set and not yet fired are the ones to re-arm
  const pendingTimers = new Map<string, { atMs: number; timer: Timer }[]>();
  let replayed = 0;
  for (const ev of store.events()) {
    let fx: Effect[];
    try {
      fx = apply(state, ev);
    } catch (e) {
      throw new InfermarketError('ERR_INTERNAL', `event ${replayed + 1} (${ev.type}) in ${store.path} does not replay: ${(e as Error).message}`, { cause: e });
    }
    replayed++;
    if (replayed % 100_000 === 0) logger.info({ replayed }, 'replaying the event log');
    if (ev.type === 'timer.fire') {
      const list = pendingTimers.get(timerKey(ev.timer));
      if (list?.length) list.shift();
    }
    for (const e of fx) {
      if (e.type !== 'timer.set') continue;
      const k = timerKey(e.timer);
      const list = pendingTimers.get(k) ?? [];
      list.push({ atMs: e.atMs, timer: e.timer });
      list.sort((a, b) => a.atMs - b.atMs);
      pendingTimers.set(k, list);
    }
  }
  const startedAtMs = wall();
  // Downtime is not the nodes' fault: the market clock does not run while the market is down. It resumes
  // from the last event's time, and stands still for the restart grace while nodes reconnect, so every
  // deadline and window that was open keeps the time it had left (plus the grace), never fires as a miss
  // for time nobody could reach the market. Deadlines sent to nodes are in this clock (`nowMs` in auth.ok
  // and /v1/health); raw clients sign expiries against it too.
  const graceMs = options.restartGraceMs ?? CORE_DEFAULTS.restartGraceMs;
  const pausedMs = replayed > 0 ? Math.max(0, startedAtMs - state.nowMs) + graceMs : 0;
  if (pausedMs > 0) logger.info({ pausedMs, downMs: pausedMs - graceMs, graceMs }, 'resuming: the market clock skips the time it was down');
  const clock = (): number => wall() - pausedMs;
  const now = (): number => Math.max(clock(), state.nowMs);

  const extra = (jobId: string): JobExtra => {
    let x = extras.get(jobId);
    if (!x) {
      x = { ttftMs: null, latencyMs: null, result: null, receipt: null, tokens: 0 };
      extras.set(jobId, x);
    }
    return x;
  };

  const rowOf = (job: Job): JobRow => {
    const x = extra(job.id);
    return {
      id: job.id,
      client: job.client,
      model: job.model,
      status: job.status,
      failure: job.failure,
      miner: job.miner,
      priceMicro: job.priceMicro.toString(),
      maxPriceMicro: job.maxPriceMicro.toString(),
      audited: job.audited,
      submittedAtMs: job.submittedAtMs,
      finishedAtMs: job.finishedAtMs,
      ttftMs: x.ttftMs,
      latencyMs: x.latencyMs,
      result: x.result,
      receipt: x.receipt,
    };
  };

  const signReceipt = (job: Job, refundMicro: bigint): void => {
    const status = job.status === 'settled' ? 'settled' : 'failed';
    // amounts as decimal strings: their canonical form equals the bigint's, so the JSON verifies as sent
    const body = {
      jobId: job.id,
      model: job.model,
      client: job.client,
      inputHash: job.inputHash,
      outputHash: status === 'settled' ? job.outputHash : null,
      miner: job.miner,
      status,
      priceMicro: (status === 'settled' ? job.priceMicro : 0n).toString(),
      // in the job token: what the submission escrowed (its IMT conversion in `token` mode) minus the refund
      paidMicro: ((job.escrowMicro ?? job.maxPriceMicro) - refundMicro).toString(),
      audited: job.audited,
      finishedAtMs: job.finishedAtMs,
      ...receiptChecks(job),
      ...receiptLength(job, status),
      // the auditor's teacher-forced re-check of a sampled generation (audit.verdict "flagged"), when it made one
      flaggedTokens: job.verdict === 'verified' && job.validator ? ((payloadOf(job.id, `flagged:${job.validator}`) as number[] | undefined) ?? []) : [],
    } satisfies Record<keyof ReceiptBody, unknown>;
    extra(job.id).receipt = JSON.stringify(sealEnvelope(keys, 'job.receipt', body));
  };

  // what the receipt says about the output's length against the input (null when the market cannot see them)
  const receiptLength = (job: Job, status: string): { outputLength: number | null; expectedLength: number | null } => {
    const input = status === 'settled' ? (payloadOf(job.id, 'input') as JobInput | undefined) : undefined;
    const output = input ? minerOutput(core, job.id) : undefined;
    const r = input && output ? outputLength(input, output, specs.get(job.model)?.outputs[0]) : null;
    return { outputLength: r ? r.length : null, expectedLength: r ? r.expected : null };
  };

  let epochTimer: NodeJS.Timeout | null = null;
  let stopped = false;
  let broken: Error | null = null;

  // payloads of live jobs, kept in memory: the hot path (assignments, results, receipts) never re-reads them
  // from SQLite; a finished job's are dropped once its batch is written (reads then go to the file)
  const live = new Map<string, Map<string, unknown>>();
  const payloadOf = (jobId: string, kind: string): unknown => {
    const hit = live.get(jobId)?.get(kind);
    return hit !== undefined ? hit : store.payload(jobId, kind);
  };

  // group commit: the batch being filled this turn, and who waits for it to be written
  const maxBatch = options.maxBatchEvents ?? CORE_DEFAULTS.maxBatchEvents;
  let batch: CommitItem[] = [];
  let finished: string[] = [];
  let waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (!batch.length) return;
    const items = batch;
    const done = finished;
    const wake = waiters;
    batch = [];
    finished = [];
    waiters = [];
    try {
      store.commit(items);
    } catch (e) {
      // the state already moved: a market that cannot write must not go on serving a ledger it cannot keep;
      // a restart replays the file, which holds everything up to the last good commit. Nothing of this batch
      // was acknowledged or sent.
      broken = e as Error;
      logger.fatal({ err: e }, 'cannot write the event log; refusing further events');
      const err = new InfermarketError('ERR_INTERNAL', `cannot write the event log: ${(e as Error).message}`, { cause: e });
      for (const w of wake) w.reject(err);
      return;
    }
    for (const item of items) {
      for (const e of item.effects) if (e.type === 'timer.set') core.scheduler.add(e.atMs, e.timer);
      for (const fn of listeners) {
        try {
          fn(item.effects, item.event);
        } catch (err) {
          logger.error({ err }, 'effect listener failed');
        }
      }
    }
    for (const id of done) live.delete(id);
    for (const w of wake) w.resolve();
  };

  const core: MarketCore = {
    state,
    store,
    specs,
    params,
    seed,
    keys,
    marketKey: toHex(keys.publicKey),
    startedAtMs,
    pausedMs,
    scheduler: createScheduler({
      now,
      fire: (t) => {
        const atMs = Math.max(now(), t.atMs);
        // a timer whose job moved on changes nothing: not applied, not logged (it is re-armed after a restart
        // and skipped again)
        if (!timerLive(state, t.timer, atMs)) return;
        try {
          core.step({ type: 'timer.fire', atMs, timer: t.timer });
        } catch (e) {
          logger.error({ err: e, timer: t.timer }, 'timer event rejected');
        }
      },
    }),
    replayed,
    now,
    step(event, ex) {
      if (broken) throw new InfermarketError('ERR_INTERNAL', `the market stopped applying events: it cannot write its log (${broken.message})`);
      const fx = apply(state, event);
      for (const p of ex?.payloads ?? []) {
        let m = live.get(p.jobId);
        if (!m) live.set(p.jobId, (m = new Map()));
        m.set(p.kind, p.body);
      }
      for (const e of fx) {
        if (e.type === 'job.settled' || e.type === 'job.failed') {
          const job = state.jobs.get(e.jobId);
          if (job) signReceipt(job, e.refundMicro);
          finished.push(e.jobId);
        }
      }
      ex?.beforeCommit?.(fx);
      const jobs: JobRow[] = [];
      for (const id of touchedJobs(event, fx)) {
        const job = state.jobs.get(id);
        if (job) jobs.push(rowOf(job));
      }
      batch.push({ seq: state.seq, event, effects: fx, jobs, ...(ex?.payloads ? { payloads: ex.payloads } : {}) });
      if (batch.length >= maxBatch) flush();
      else if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
      return fx;
    },
    durable() {
      if (broken && !batch.length) return Promise.reject(new InfermarketError('ERR_INTERNAL', `cannot write the event log: ${broken.message}`));
      if (!batch.length) return Promise.resolve();
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    flush,
    payload: payloadOf,
    extra,
    onEffects(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    start() {
      for (const list of pendingTimers.values()) for (const t of list) core.scheduler.add(t.atMs, t.timer);
      pendingTimers.clear();
      const begin = (): void => {
        if (stopped) return;
        try {
          core.step({ type: 'epoch.begin', atMs: now(), seed: randomSeed() });
        } catch (err) {
          logger.error({ err }, 'epoch.begin rejected');
        }
      };
      begin();
      epochTimer = setInterval(begin, params.epochMs);
      core.scheduler.runDue();
    },
    stop() {
      stopped = true;
      if (epochTimer) clearInterval(epochTimer);
      core.scheduler.stop();
      flush();
    },
  };
  return core;
}

/**
 * The miner's output of a job, if it has committed one. A redundant job has none until a majority agreed:
 * then it is the output of the majority's first member (`job.miner`); the replicas' outputs are never shown before.
 */
export function minerOutput(core: MarketCore, jobId: string): JobOutput | undefined {
  const job = core.state.jobs.get(jobId);
  if (job?.verification === 'redundant') return job.outputHash && job.miner ? (core.payload(jobId, `output:${job.miner}`) as JobOutput | undefined) : undefined;
  return core.payload(jobId, 'output') as JobOutput | undefined;
}
