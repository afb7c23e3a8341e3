import { describe, expect, it } from 'vitest';
import { createClient, createRng, stackRows, syntheticInput } from '@infermarket/client';
import { keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { createInferenceExecutor } from '@infermarket/miner';
import { createCloud } from '../packages/cli/src/cloud/server.js';

// The centralized baseline prices a batch job per row, as the market does (so `infermarket compare` compares like
// with like), by the market's own rows check.
describe('cloud baseline: batch jobs', () => {
  it('charges its price × rows for a 4-row job and refuses rows that disagree with the tensor', async () => {
    const cloud = createCloud({ keys: keyPairFromSeed(seedFromLabel('cloud-batch')), executor: createInferenceExecutor(), defaultPriceMicro: 5_000n });
    const url = await cloud.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const c = createClient({ url, key: seedFromLabel('cloud-batch-alice'), transport: 'http' });
      await c.faucet(100_000n);
      const rng = createRng(3, 'b');
      const input = stackRows(Array.from({ length: 4 }, () => syntheticInput('digits', rng)));
      const { jobId } = await c.submit({ model: 'digits', input, maxPriceMicro: 6_000n });
      const job = await c.wait(jobId, { timeoutMs: 20_000 });
      expect(job.status).toBe('settled');
      expect(job.priceMicro).toBe('20000');
      expect(job.output?.kind === 'tensor' && job.output.tensor.dims).toEqual([4, 10]);
      expect(await c.balance()).toBe(80_000n);
      await expect(c.submit({ model: 'digits', input, maxPriceMicro: 6_000n, rows: 3 })).rejects.toMatchObject({ code: 'ERR_BAD_BATCH' });
      expect(await c.balance()).toBe(80_000n);
    } finally {
      await cloud.close();
    }
  });
});
