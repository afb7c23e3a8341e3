import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureStoreThroughput } from '@infermarket/market';
import { repeat, type BenchRow } from './harness.js';

/** Settlements per second into the market's SQLite store (WAL): rules, events, journal and job rows. */
export async function ledgerSuite(opts: { quick: boolean }): Promise<BenchRow[]> {
  const settlements = opts.quick ? 5_000 : 50_000;
  const rows: BenchRow[] = [];
  for (const batchSize of [1, 1_000]) {
    const n = batchSize === 1 ? Math.min(settlements, 5_000) : settlements;
    rows.push(
      await repeat(
        {
          suite: 'ledger',
          name: `settlements into SQLite, ${batchSize === 1 ? 'one transaction per job' : `${batchSize} jobs per transaction`}`,
          unit: 'settlements/s',
          repeats: opts.quick ? 2 : 3,
          // no target on the batched row: the market commits one transaction per event, not 1,000 jobs at once
          ...(batchSize > 1 ? { note: 'not what the market does today (one transaction per event): an upper bound for group commit' } : {}),
        },
        () => {
          const dir = mkdtempSync(join(tmpdir(), 'im-bench-ledger-'));
          try {
            return measureStoreThroughput({ dbPath: join(dir, 'ledger.db'), settlements: n, batchSize }).settlementsPerSec;
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
    );
  }
  return rows;
}
