import { apply, createState, hashHex, keyPairFromSeed, seedFromLabel, type Effect, type MarketEvent } from '@infermarket/protocol';
import type { CommitItem, JobRow } from './store.js';
import { openStore } from './store.js';

/** What `measureStoreThroughput` measured. */
export interface StoreThroughput {
  settlements: number;
  events: number;
  journalEntries: number;
  batchSize: number;
  elapsedMs: number;
  /** Time spent writing to SQLite (encoding included), ms. */
  writeMs: number;
  /** Time spent in `apply` (the rules), ms. */
  rulesMs: number;
  /** Settled jobs per second written into SQLite: events, journal entries and job rows, batched. */
  settlementsPerSec: number;
  /** Settled jobs per second with the rules included (`apply` + SQLite). */
  endToEndPerSec: number;
  eventsPerSec: number;
}

/**
 * Drive `settlements` jobs through their whole life (submit, bid, bid window, result, challenge window →
 * settled) with `apply`, writing every event, its journal entries and the job row to SQLite through the
 * market's store in transactions of `batchSize` jobs. The bench calls this to report settlements/s.
 * @example measureStoreThroughput({ dbPath: '/tmp/x.db', settlements: 100_000 })
 */
export function measureStoreThroughput(options: { dbPath: string; settlements: number; batchSize?: number }): StoreThroughput {
  const batchSize = options.batchSize ?? 1_000;
  const store = openStore(options.dbPath);
  // the per-job auction's event mix (submit, bid, bid window, result, challenge), as this measurement has always used
  const state = createState({ params: { matchingMode: 'auction', faucetCapMicro: 10n ** 17n, auditRate: 0, bidWindowMs: 1, challengeWindowMs: 1 }, models: ['digits'] });
  const client = keyPairFromSeed(seedFromLabel('bench/client')).address;
  const miner = keyPairFromSeed(seedFromLabel('bench/miner')).address;
  let now = 1;
  let nonce = 0;
  let events = 0;
  let journal = 0;
  let batch: CommitItem[] = [];
  // `jobId` is given on a job's last event of the batch: the view keeps only a job's latest row per commit
  const step = (ev: MarketEvent, jobId?: string): Effect[] => {
    const fx = apply(state, ev);
    events++;
    for (const e of fx) if (e.type === 'ledger.entry') journal++;
    const jobs: JobRow[] = [];
    const job = jobId ? state.jobs.get(jobId) : undefined;
    if (job) {
      jobs.push({
        id: job.id, client: job.client, model: job.model, status: job.status, failure: job.failure, miner: job.miner,
        priceMicro: job.priceMicro.toString(), maxPriceMicro: job.maxPriceMicro.toString(), audited: job.audited,
        submittedAtMs: job.submittedAtMs, finishedAtMs: job.finishedAtMs, ttftMs: null, latencyMs: null, result: null, receipt: null,
      });
    }
    batch.push({ seq: state.seq, event: ev, effects: fx, jobs });
    return fx;
  };
  const signed = (by: string) => ({ by, nonce: `${++nonce}`, expiresAtMs: now + 1_000 });
  let writeMs = 0;
  const flush = (): void => {
    const w0 = performance.now();
    store.commit(batch);
    writeMs += performance.now() - w0;
    batch = [];
  };
  const t0 = performance.now();
  step({ type: 'epoch.begin', atMs: now, seed: hashHex('bench') });
  step({ type: 'account.faucet', atMs: now, address: client, amountMicro: 10n ** 16n });
  step({ type: 'account.faucet', atMs: now, address: miner, amountMicro: 1_000_000_000n });
  step({ type: 'node.register', atMs: now, ...signed(miner), role: 'miner', models: ['digits'], region: 'local' });
  step({ type: 'stake.bond', atMs: now, ...signed(miner), amountMicro: 500_000_000n });
  const input = hashHex('input');
  const output = hashHex('output');
  for (let i = 0; i < options.settlements; i++) {
    const jobId = `b${i}`;
    step({ type: 'job.submit', atMs: now, ...signed(client), jobId, model: 'digits', inputHash: input, maxPriceMicro: 3_000n });
    step({ type: 'job.bid', atMs: now, ...signed(miner), jobId, priceMicro: 1_000n });
    now += 1;
    step({ type: 'timer.fire', atMs: now, timer: { kind: 'bid-window', jobId, attempt: 0 } });
    step({ type: 'job.result', atMs: now, ...signed(miner), jobId, outputHash: output });
    now += 1;
    step({ type: 'timer.fire', atMs: now, timer: { kind: 'challenge', jobId } }, jobId);
    if (state.jobs.get(jobId)?.status !== 'settled') throw new Error(`bench job ${jobId} did not settle`);
    // the live market keeps finished jobs; the bench drops them to measure the log, not a growing map
    state.jobs.delete(jobId);
    state.finishedJobs.add(jobId);
    if (i % 5_000 === 4_999) step({ type: 'epoch.begin', atMs: now, seed: hashHex(`bench${i}`) });
    if ((i + 1) % batchSize === 0) flush();
  }
  flush();
  const elapsedMs = performance.now() - t0;
  store.close();
  return {
    settlements: options.settlements,
    events,
    journalEntries: journal,
    batchSize,
    elapsedMs,
    writeMs,
    rulesMs: elapsedMs - writeMs,
    settlementsPerSec: options.settlements / (writeMs / 1000),
    endToEndPerSec: options.settlements / (elapsedMs / 1000),
    eventsPerSec: events / (writeMs / 1000),
  };
}
