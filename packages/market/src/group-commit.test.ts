import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPairFromSeed, seedFromLabel, type Effect } from '@infermarket/protocol';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type MarketCore } from './core.js';
import { openStore, type MarketStore } from './store.js';

// Group commit (issue #13): events are applied at once and written in one transaction per turn of the event
// loop; listeners, timers and acknowledgements (`durable()`) come only after the write.

let dir: string;
let store: MarketStore;
let core: MarketCore;
const addr = (i: number): string => `im${String(i).padStart(40, '0')}`;
const rowsOnDisk = (): number => {
  const db = new Database(join(dir, 'm.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COALESCE(SUM(last_seq - seq + 1), 0) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-group-'));
  store = openStore(join(dir, 'm.db'));
  core = createCore({ store, specs: new Map(), seed: 1, keys: keyPairFromSeed(seedFromLabel('group/market')), logger: pino({ level: 'silent' }), params: { jobDeadlineMs: 1_000 } });
});
afterEach(() => {
  core.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('writes the events of one turn in one transaction, and tells listeners and waiters only after it', async () => {
    const told: string[] = [];
    core.onEffects((_fx: readonly Effect[], ev) => told.push(`${ev.type}@${rowsOnDisk()}`));
    let acked = -1;
    for (let i = 0; i < 50; i++) core.step({ type: 'account.faucet', atMs: core.now(), address: addr(i), amountMicro: 1_000n });
    const durable = core.durable().then(() => (acked = rowsOnDisk()));
    // applied at once, written not yet: nothing was told
    expect(core.state.seq).toBe(50);
    expect(rowsOnDisk()).toBe(0);
    expect(told).toEqual([]);
    await durable;
    // one write of all 50; each listener call saw them on disk; the waiter was woken after
    expect(acked).toBe(50);
    expect(told).toHaveLength(50);
    expect(told.every((t) => t === 'account.faucet@50')).toBe(true);
    const db = new Database(join(dir, 'm.db'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(1);
    db.close();
    // with nothing waiting, durable() resolves at once
    await core.durable();
  });

  it('error: a rejected event throws at once, changes nothing, and is never written', async () => {
    core.step({ type: 'account.faucet', atMs: core.now(), address: addr(1), amountMicro: 1_000n });
    expect(() => core.step({ type: 'account.faucet', atMs: core.now(), address: 'nobody', amountMicro: 1n })).toThrow(/address/);
    await core.durable();
    expect(rowsOnDisk()).toBe(1);
    expect(core.state.seq).toBe(1);
  });

  it('error: a write that fails rejects every waiter of its batch with ERR_INTERNAL and refuses further events', async () => {
    core.step({ type: 'account.faucet', atMs: core.now(), address: addr(2), amountMicro: 1_000n });
    const waiting = core.durable();
    store.close(); // the file goes away under the market
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    expect(() => core.step({ type: 'account.faucet', atMs: core.now(), address: addr(3), amountMicro: 1_000n })).toThrow(/cannot write its log/);
    store = openStore(join(dir, 'm.db')); // for afterEach
  });

  it('a batch is written early once it holds maxBatchEvents', () => {
    core.stop();
    store.close();
    store = openStore(join(dir, 'm.db'));
    core = createCore({ store, specs: new Map(), seed: 1, keys: keyPairFromSeed(seedFromLabel('group/market')), logger: pino({ level: 'silent' }), maxBatchEvents: 10 });
    for (let i = 0; i < 25; i++) core.step({ type: 'account.faucet', atMs: core.now(), address: addr(100 + i), amountMicro: 1_000n });
    // two full batches written synchronously, five waiting for the end of the turn
    expect(rowsOnDisk()).toBe(20);
  });
});
