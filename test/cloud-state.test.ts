import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, createRng, requestJson, syntheticInput } from '@infermarket/client';
import { keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { createInferenceExecutor, type Executor } from '@infermarket/miner';
import { createCloud } from '../packages/cli/src/cloud/server.js';
import { removeRun, tempDir } from './testnet-helpers.js';

// `infermarket cloud --state FILE`: a restarted cloud keeps its accounts, and the escrow of a job lost in
// the crash goes back to its client; the ledger stays conserved.
describe('cloud ledger file', () => {
  it('survives a crash: balances kept, the job in flight refunded, conserved', async () => {
    const dir = tempDir('cloud-state');
    const stateFile = join(dir, 'ledger.json');
    const keys = keyPairFromSeed(seedFromLabel('cloud-state'));
    const hang: Executor = { ...createInferenceExecutor(), execute: () => new Promise(() => undefined) };
    const first = createCloud({ keys, executor: hang, stateFile, defaultPriceMicro: 5_000n });
    const url1 = await first.app.listen({ host: '127.0.0.1', port: 0 });
    const c1 = createClient({ url: url1, key: seedFromLabel('cloud-state-alice'), transport: 'http' });
    await c1.faucet(100_000n);
    await c1.submit({ model: 'digits', input: syntheticInput('digits', createRng(1, 's')), maxPriceMicro: 20_000n });
    expect(await c1.balance()).toBe(80_000n);
    // the "crash": a second cloud opens the same file while the first never finished its job
    const second = createCloud({ keys, executor: createInferenceExecutor(), stateFile, defaultPriceMicro: 5_000n });
    const url2 = await second.app.listen({ host: '127.0.0.1', port: 0 });
    const c2 = createClient({ url: url2, key: seedFromLabel('cloud-state-alice'), transport: 'http' });
    expect(await c2.balance()).toBe(100_000n);
    const { jobId } = await c2.submit({ model: 'digits', input: syntheticInput('digits', createRng(2, 's')), maxPriceMicro: 20_000n });
    expect((await c2.wait(jobId, { timeoutMs: 20_000 })).status).toBe('settled');
    expect(await c2.balance()).toBe(95_000n);
    const s = await requestJson<{ jobs: { refundedAtStart: number }; ledger: { conserved: boolean; mintedMicro: string } }>(url2, '/v1/stats');
    expect(s.jobs.refundedAtStart).toBe(1);
    expect(s.ledger).toMatchObject({ conserved: true, mintedMicro: '100000' });
    await first.app.close();
    await second.close();
    // a file that is not a ledger is refused, naming the flag
    writeFileSync(stateFile, 'not json');
    expect(() => createCloud({ keys, executor: createInferenceExecutor(), stateFile })).toThrow(/"--state"/);
    removeRun(dir);
  });
});
