import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkInvariants, ledgerTotals, type JobView } from '@infermarket/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { actAsMiner, connectNode, keysOf, readTokenOf, registerAndBond, submitRequest, until, type TestNode } from './test-node.js';

const PARAMS = { bidWindowMs: 500, challengeWindowMs: 60, jobDeadlineMs: 800, maxAttempts: 1, auditRate: 0, unbondingPeriodMs: 20_000 };

let dir: string;
const open: (Market | TestNode)[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(m: Market, path: string, body: unknown) {
  const r = await fetch(`${m.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as JobView };
}
const view = async (m: Market, id: string) => (await (await fetch(`${m.url}/v1/jobs/${id}`, { headers: { 'x-infermarket-read': readTokenOf(keysOf('restart/client'), id) } })).json()) as JobView;
const ledgerOf = (m: Market) => JSON.stringify([...m.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort());

describe('market: restart on the same database file', () => {
  it('replays the log, keeps the ledger, pays no job twice, and refunds the in-flight job after its deadline', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-restart-'));
    const dbPath = join(dir, 'm.db');
    const a = await createMarket({ dbPath, params: PARAMS, seed: 42 });
    open.push(a);
    const client = keysOf('restart/client');
    expect((await post(a, '/v1/faucet', { address: client.address, amountMicro: '1000000' })).status).toBe(200);

    // 1) an honest miner settles job-1
    const honest = await connectNode(a.wsUrl, 'restart/honest');
    open.push(honest);
    await post(a, '/v1/faucet', { address: honest.address, amountMicro: '500000000' });
    await registerAndBond(honest, 'miner');
    await actAsMiner(honest, { priceMicro: '1000' });
    expect((await post(a, '/v1/jobs', submitRequest(client, { jobId: 'job-1' }))).status).toBe(202);
    await until(async () => (await view(a, 'job-1')).status === 'settled', 10_000, 'job-1 settled');
    honest.close();

    // 2) a miner that wins job-2 and then says nothing: the market stops while job-2 is in flight
    const silent = await connectNode(a.wsUrl, 'restart/silent');
    open.push(silent);
    await post(a, '/v1/faucet', { address: silent.address, amountMicro: '500000000' });
    await registerAndBond(silent, 'miner');
    await actAsMiner(silent, { priceMicro: '500', silent: true });
    expect((await post(a, '/v1/jobs', submitRequest(client, { jobId: 'job-2' }))).status).toBe(202);
    await silent.waitFor((f) => f.type === 'job.assign');
    const deadline = a.core.state.jobs.get('job-2')!.deadlineAtMs;
    const ledgerBefore = ledgerOf(a);
    const job1Before = await view(a, 'job-1');
    silent.close();
    // the lost connection lapses the silent miner's standing offer: an event in the log like any other
    await until(async () => !a.core.state.offers.has(silent.address), 5_000, 'the silent miner\'s offer to lapse');
    const seqBefore = a.core.state.seq;
    await a.close();

    // the deadline passes (in wall time) while the market is down: that time is not charged to the miner.
    // On restart the market clock resumes where it stopped, so job-2 keeps the time it had left (plus the grace)
    const down = Math.max(0, deadline - Date.now() + 300);
    await new Promise((r) => setTimeout(r, down));
    const b = await createMarket({ dbPath, params: { auditRate: 1 } /* ignored: the file keeps its parameters */, restartGraceMs: 300 });
    open.push(b);
    expect(b.core.replayed).toBe(seqBefore);
    expect(b.marketKey).toBe(a.marketKey); // the key file beside the database is reused
    expect(b.core.params.auditRate).toBe(0);
    expect(b.core.pausedMs).toBeGreaterThanOrEqual(down + 300);
    expect(b.core.now()).toBeLessThan(deadline);
    expect(b.core.state.jobs.get('job-2')!.status).toBe('assigned');
    const job1After = await view(b, 'job-1');
    expect(job1After.status).toBe('settled');
    expect(job1After.receipt).toEqual(job1Before.receipt);

    // the miner stays silent after the restart too: then, and only then, its deadline passes
    const job2 = await until(async () => {
      const j = await view(b, 'job-2');
      return j.status === 'failed' ? j : null;
    }, 5_000, 'job-2 refunded');
    expect(job2.failure).toBe('attempts-exhausted');
    expect(job2.receipt?.body).toMatchObject({ status: 'failed', paidMicro: '0' });
    // before the restart job-2's max price sat in escrow; now it is back with the client (plus the miss penalty:
    // the miner was silent for its whole deadline of market time)
    const s = b.core.state;
    expect(s.ledger.has('escrow:job-2')).toBe(false);
    expect(ledgerTotals(s).conserved).toBe(true);
    expect(checkInvariants(s)).toEqual([]);
    expect(ledgerOf(b)).not.toBe(ledgerBefore);
    expect(s.stats.settled).toBe(1);

    // the journal on disk: each job paid its miner at most once, and it sums to the ledger
    await b.close();
    const db = new Database(dbPath, { readonly: true });
    const pays = db.prepare("SELECT ref, COUNT(*) AS n FROM journal WHERE reason = 'pay-miner' GROUP BY ref").all() as { ref: string; n: number }[];
    expect(pays).toEqual([{ ref: 'job-1', n: 1 }]);
    const minted = db.prepare("SELECT SUM(CAST(amount_micro AS INTEGER)) AS m FROM journal WHERE from_acct = 'mint'").get() as { m: number };
    expect(BigInt(minted.m)).toBe(ledgerTotals(s).mintedMicro);
    db.close();

    // a third start replays everything again to the same ledger
    const c = await createMarket({ dbPath });
    open.push(c);
    expect(ledgerOf(c)).toBe(JSON.stringify([...s.ledger].map(([k, v]) => [k, v.toString()]).sort()));
    expect((await view(c, 'job-2')).status).toBe('failed');
  });
});
