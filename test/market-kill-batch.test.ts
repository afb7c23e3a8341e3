import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInvariants, hashPayload, keyPairFromSeed, ledgerTotals, nonceSequence, sealEnvelope, seedFromLabel, type Canonical } from '@infermarket/protocol';
import { createMarket, openStore } from '@infermarket/market';
import { digits } from './security-raw.js';
import { removeRun, startMarket, tempDir } from './testnet-helpers.js';

// Group commit (issue #13): the market applies events at once and writes them in one transaction per turn
// of the event loop, acknowledging nothing before the write. A real `infermarket market` process is flooded
// with faucet requests and signed submissions over HTTP and killed with SIGKILL while hundreds are in flight
// (so mid-batch: applied in memory, not yet written). The file must replay to a state that holds every
// acknowledged request, is internally consistent (money conserved, the rules' invariants), and replays to
// exactly the same state again.

const dir = tempDir('im-kill-batch-');
afterAll(() => removeRun(dir));

const ledgerText = (s: { ledger: Map<string, bigint> }): string => JSON.stringify([...s.ledger].map(([k, v]) => [k, v.toString()]).sort());

describe('group commit: SIGKILL mid-batch', () => {
  it('replays every acknowledged event, nothing torn, money conserved, and the same state twice', async () => {
    const db = join(dir, 'm.db');
    const m = await startMarket(['--db', db, '--log-level', 'warn', '--params', JSON.stringify({ auditRate: 0, bidWindowMs: 60_000 })]);
    const post = async (path: string, body: unknown): Promise<number> => {
      const r = await fetch(`${m.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await r.text();
      return r.status;
    };
    // clients with money to escrow (acknowledged before the flood)
    const clients = Array.from({ length: 8 }, (_, i) => keyPairFromSeed(seedFromLabel(`kill-batch/client/${i}`)));
    for (const c of clients) expect(await post('/v1/faucet', { address: c.address, amountMicro: '100000000' })).toBe(200);
    const health = (await (await fetch(`${m.url}/v1/health`)).json()) as { nowMs: number };
    const next = nonceSequence(Date.now());
    const input = digits(3);

    const ackedFaucets: string[] = [];
    const ackedJobs: string[] = [];
    let failed = 0;
    let killed = false;
    const exited = new Promise<NodeJS.Signals | null>((r) => m.child.once('exit', (_code, signal) => r(signal)));
    const kill = (): void => {
      if (killed) return;
      killed = true;
      m.child.kill('SIGKILL');
    };
    const requests: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) {
      if (i % 3 === 2) {
        const c = clients[i % clients.length]!;
        const jobId = `kb-${i}`;
        const envelope = sealEnvelope(c, 'job.submit', { jobId, model: 'digits', inputHash: hashPayload(input), maxPriceMicro: '20000', nonce: next(), expiresAtMs: health.nowMs + 50_000 } as Canonical);
        requests.push(
          post('/v1/jobs', { envelope, input }).then(
            (status) => {
              if (status === 202) ackedJobs.push(jobId);
            },
            () => void failed++,
          ),
        );
      } else {
        const address = keyPairFromSeed(seedFromLabel(`kill-batch/faucet/${i}`)).address;
        requests.push(
          post('/v1/faucet', { address, amountMicro: '1000' }).then(
            (status) => {
              if (status === 200) ackedFaucets.push(address);
              if (ackedFaucets.length + ackedJobs.length >= 150) kill();
            },
            () => void failed++,
          ),
        );
      }
    }
    await Promise.all(requests);
    kill();
    expect(await exited).toBe('SIGKILL');
    // the kill landed while requests were in flight: some were never answered
    expect(failed).toBeGreaterThan(0);
    expect(ackedFaucets.length + ackedJobs.length).toBeGreaterThanOrEqual(150);

    // replay the file in this process
    const stored = openStore(db);
    const events = stored.counts().events;
    stored.close();
    const r1 = await createMarket({ dbPath: db, port: 0 });
    const s1 = r1.core.state;
    for (const a of ackedFaucets) expect(s1.faucetMinted.get(a), `acknowledged faucet to ${a}`).toBe(1000n);
    for (const id of ackedJobs) expect(s1.jobs.has(id), `acknowledged job ${id}`).toBe(true);
    expect(ledgerTotals(s1).conserved).toBe(true);
    expect(checkInvariants(s1)).toEqual([]);
    // the log is whole: every event it holds replayed (a torn batch would not)
    expect(r1.core.replayed).toBe(events);
    // money: exactly the clients' grants and one 1000 per faucet event in the file (at least the acknowledged ones)
    const faucets = [...s1.faucetMinted.values()].filter((v) => v === 1000n).length;
    expect(faucets).toBeGreaterThanOrEqual(ackedFaucets.length);
    expect(ledgerTotals(s1).mintedMicro).toBe(800_000_000n + 1000n * BigInt(faucets));
    const first = { seq: s1.seq, ledger: ledgerText(s1), jobs: [...s1.jobs.keys()].sort().join(',') };
    await r1.close();

    // and the same file replays to the same state again (the first replay wrote only its own epoch event)
    const r2 = await createMarket({ dbPath: db, port: 0 });
    const s2 = r2.core.state;
    expect([...s2.jobs.keys()].sort().join(',')).toBe(first.jobs);
    expect(ledgerText(s2)).toBe(first.ledger);
    expect(s2.seq).toBeGreaterThanOrEqual(first.seq);
    await r2.close();
  }, 120_000);
});
