import { apply, createState, DEFAULT_PARAMS, hashHex, keyPairFromSeed, seedFromLabel, type MarketEvent, type Timer } from '@infermarket/protocol';
import { repeat, type BenchRow } from './harness.js';

/**
 * Events and jobs per second through the rulebook alone: submit → bids → match → result → (audit) →
 * settle, with a minimal timer queue. No I/O: this is the ceiling for every driver.
 */
export async function protocolSuite(opts: { jobs?: number; repeats?: number } = {}): Promise<BenchRow[]> {
  const jobs = opts.jobs ?? 50_000;
  let events = 0;
  const run = () => {
    const state = createState({ models: ['digits'], params: { matchingMode: 'auction', auditRate: 0.1, disputeQuorum: 0 }, keepFinishedJobs: false });
    const miners = [0, 1, 2, 3].map((i) => keyPairFromSeed(seedFromLabel(`bench-m${i}`)).address);
    const validators = [0, 1].map((i) => keyPairFromSeed(seedFromLabel(`bench-v${i}`)).address);
    const client = keyPairFromSeed(seedFromLabel('bench-c')).address;
    let t = 0;
    let n = 0;
    const timers: { atMs: number; timer: Timer }[] = [];
    const send = (ev: MarketEvent) => {
      events++;
      for (const fx of apply(state, ev)) if (fx.type === 'timer.set') timers.push({ atMs: fx.atMs, timer: fx.timer });
    };
    const s = () => ({ nonce: `${++n}`, expiresAtMs: t + 1_000 });
    send({ type: 'epoch.begin', atMs: 0, seed: hashHex('bench') });
    for (const a of [...miners, ...validators, client]) send({ type: 'account.faucet', atMs: 0, address: a, amountMicro: 10_000_000_000n });
    for (const a of miners) send({ type: 'node.register', atMs: 0, by: a, role: 'miner', models: ['digits'], region: 'local', ...s() });
    for (const a of validators) send({ type: 'node.register', atMs: 0, by: a, role: 'validator', models: ['digits'], region: 'local', ...s() });
    for (const a of [...miners, ...validators]) send({ type: 'stake.bond', atMs: 0, by: a, amountMicro: 1_000_000_000n, ...s() });
    const start = performance.now();
    for (let j = 0; j < jobs; j++) {
      t += 1;
      const jobId = `j${j}`;
      send({ type: 'job.submit', atMs: t, by: client, jobId, model: 'digits', inputHash: 'a'.repeat(64), maxPriceMicro: 10_000n, ...s() });
      send({ type: 'job.bid', atMs: t, by: miners[j % 4]!, jobId, priceMicro: 1_000n + BigInt(j % 7), ...s() });
      send({ type: 'job.bid', atMs: t, by: miners[(j + 1) % 4]!, jobId, priceMicro: 1_000n + BigInt(j % 5), ...s() });
      // fire the bid window, commit, then the challenge window (or the audit) — timers in order
      let committed = false;
      while (timers.length) {
        const next = timers.shift()!;
        t = Math.max(t, next.atMs);
        if (next.timer.kind === 'bid-window') {
          send({ type: 'timer.fire', atMs: t, timer: next.timer });
          const job = state.jobs.get(jobId)!;
          send({ type: 'job.result', atMs: t, by: job.miner!, jobId, outputHash: 'b'.repeat(64), ...s() });
          committed = true;
          const jobNow = state.jobs.get(jobId);
          if (jobNow?.status === 'auditing') send({ type: 'audit.report', atMs: t, by: jobNow.validator!, jobId, outputHash: 'b'.repeat(64), match: true, ...s() });
        } else if (next.timer.kind === 'deadline' && committed) {
          continue; // stale after the commit; the rules would ignore it too
        } else {
          send({ type: 'timer.fire', atMs: t, timer: next.timer });
        }
      }
      if (j % 10_000 === 9_999) send({ type: 'epoch.begin', atMs: t, seed: hashHex(`bench-${j}`) });
    }
    const seconds = (performance.now() - start) / 1000;
    if (state.stats.settled !== jobs) throw new Error(`bench: expected ${jobs} settled jobs, got ${state.stats.settled}`);
    return { jobsPerSec: jobs / seconds, eventsPerSec: 0, seconds };
  };
  const rows: BenchRow[] = [];
  let evPerSec: number[] = [];
  rows.push(
    await repeat({ suite: 'protocol', name: 'jobs settled per second through apply(), per-job auction', unit: 'jobs/s', repeats: opts.repeats ?? 5 }, () => {
      events = 0;
      const r = run();
      evPerSec.push(events / r.seconds);
      return r.jobsPerSec;
    }),
  );
  evPerSec = evPerSec.slice(1);
  rows.push({ suite: 'protocol', name: 'events per second through apply()', value: evPerSec.sort((a, b) => a - b)[evPerSec.length >> 1]!, unit: 'events/s', min: Math.min(...evPerSec), max: Math.max(...evPerSec), repeats: evPerSec.length });
  return rows;
}
