import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MarketEvent } from '@infermarket/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScheduler } from './scheduler.js';
import { openStore } from './store.js';
import { measureStoreThroughput } from './throughput.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('store', () => {
  it('round-trips events with bigints and their journal entries', () => {
    const store = openStore(join(dir, 's.db'));
    const ev: MarketEvent = { type: 'account.faucet', atMs: 5, address: `im${'a'.repeat(40)}`, amountMicro: 12345678901234567890n };
    store.commit([{ seq: 1, event: ev, effects: [{ type: 'ledger.entry', entry: { from: 'mint', to: `balance:${ev.address}`, amountMicro: ev.amountMicro, reason: 'faucet', ref: ev.address, atMs: 5 } }] }]);
    store.close();
    const again = openStore(join(dir, 's.db'));
    expect([...again.events()]).toEqual([ev]);
    expect(again.counts()).toMatchObject({ events: 1, journal: 1 });
    again.close();
  });

  it('error: a batch that fails part-way writes nothing (one transaction)', () => {
    const store = openStore(join(dir, 's.db'));
    const ev: MarketEvent = { type: 'epoch.begin', atMs: 1, seed: 'ab'.repeat(32) };
    store.commit([{ seq: 1, event: ev, effects: [] }]);
    // seq 1 is already in the log: the whole commit, its payload included, is rolled back
    expect(() => store.commit([{ seq: 1, event: ev, effects: [], payloads: [{ jobId: 'j', kind: 'input', body: { x: 1 } }] }, { seq: 2, event: ev, effects: [] }])).toThrow();
    expect(() => store.commit([{ seq: 2, event: ev, effects: [] }, { seq: 4, event: ev, effects: [] }])).toThrow(/consecutive/);
    expect(store.counts()).toMatchObject({ events: 1, payloads: 0 });
    store.close();
  });

  it('measures settlements through the store: every settlement and its journal entries are on disk', () => {
    const r = measureStoreThroughput({ dbPath: join(dir, 'b.db'), settlements: 2_000, batchSize: 500 });
    expect(r.settlements).toBe(2_000);
    const store = openStore(join(dir, 'b.db'));
    const c = store.counts();
    expect(c.events).toBe(r.events);
    expect(c.journal).toBe(r.journalEntries);
    expect(c.jobs).toBe(2_000);
    // batched commits are stored deflated; replay reads them back in order
    let n = 0;
    let last = -1;
    for (const ev of store.events()) {
      expect(ev.atMs).toBeGreaterThanOrEqual(last);
      last = ev.atMs;
      n++;
    }
    expect(n).toBe(r.events);
    expect(store.epochs().length).toBeGreaterThanOrEqual(1);
    // submit, bid, bid window, result, challenge window for each job
    expect(r.events).toBeGreaterThanOrEqual(5 * 2_000);
    store.close();
  });
});

describe('scheduler', () => {
  it('fires due timers in time order, overdue ones at once', async () => {
    const fired: string[] = [];
    const s = createScheduler({ now: Date.now, fire: (t) => fired.push('address' in t.timer ? t.timer.address : t.timer.jobId) });
    const now = Date.now();
    s.add(now + 30, { kind: 'challenge', jobId: 'c' });
    s.add(now - 1000, { kind: 'audit', jobId: 'a' });
    s.add(now + 10, { kind: 'dispute', jobId: 'b' });
    s.runDue();
    expect(fired).toEqual(['a']);
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(s.size()).toBe(0);
    s.stop();
  });
});

describe('outputsAgree', () => {
  it('uses the model comparator: tolerates tiny float noise, refuses a different argmax', async () => {
    const { outputsAgree } = await import('./compare.js');
    const spec = { id: 'digits', kind: 'classifier', description: '', inputs: [], outputs: [], comparator: { kind: 'argmax-maxabs', tolerance: 0.05 }, generationComparator: null, variants: ['int8'] };
    const t = (xs: number[]) => ({ kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, xs.length], data: Buffer.from(new Float32Array(xs).buffer).toString('base64') } });
    expect(outputsAgree(spec, t([0.1, 0.9, 0.2]), t([0.1, 0.9, 0.2]))).toBe(true);
    expect(outputsAgree(spec, t([0.1, 0.9, 0.2]), t([0.1001, 0.9, 0.2]))).toBe(true);
    expect(outputsAgree(spec, t([0.1, 0.9, 0.2]), t([0.9, 0.1, 0.2]))).toBe(false);
    const tok = (xs: number[]) => ({ kind: 'tokens' as const, tokens: xs, text: '' });
    expect(outputsAgree(spec, tok([1, 2, 3]), tok([1, 2, 3]))).toBe(true);
    expect(outputsAgree(spec, tok([1, 2, 3]), tok([1, 2, 4]))).toBe(false);
  });
});

describe('codec', () => {
  it('encodeEvent writes what encodeJson writes, nested timers and odd strings included', async () => {
    const { decodeJson, encodeEvent, encodeJson } = await import('./codec.js');
    const evs: unknown[] = [
      { type: 'timer.fire', atMs: 3, timer: { kind: 'deadline', jobId: 'j"1', attempt: 2 } },
      { type: 'job.bid', atMs: 4, by: 'im00', nonce: 'n\u2028"x', expiresAtMs: 9, jobId: 'j', priceMicro: 12n },
      { type: 'node.register', atMs: 5, by: 'im00', nonce: 'n', expiresAtMs: 9, role: 'miner', models: ['digits'], region: 'local', encryptionKey: null },
      { type: 'weird', atMs: 1, nested: { deep: { amount: 5n } } },
    ];
    for (const ev of evs) {
      expect(encodeEvent(ev as object)).toBe(encodeJson(ev));
      expect(decodeJson(encodeEvent(ev as object))).toEqual(ev);
    }
  });

  it('journal lines with characters that need escaping still round-trip through the journal view', () => {
    const store = openStore(join(dir, 'j.db'));
    const ref = 'odd"ref\\';
    store.commit([{ seq: 1, event: { type: 'epoch.begin', atMs: 1, seed: 'ab'.repeat(32) }, effects: [{ type: 'ledger.entry', entry: { from: 'mint', to: 'burn', amountMicro: 7n, reason: 'faucet', ref, atMs: 1 } }] }]);
    store.close();
    const db = new Database(join(dir, 'j.db'), { readonly: true });
    expect(db.prepare('SELECT ref, amount_micro FROM journal').all()).toEqual([{ ref, amount_micro: '7' }]);
    db.close();
  });
});
