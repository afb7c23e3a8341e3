import { describe, expect, it } from 'vitest';
import { hashPayload, keyPairFromSeed, seedFromLabel, type JobView } from '@infermarket/protocol';
import type { Client } from './client.js';
import { runLoad } from './load.js';

/** An in-memory client: records what the load generator submits and finishes jobs after `holdMs`. */
function recordingClient(label: string, holdMs: number) {
  const keys = keyPairFromSeed(seedFromLabel(label));
  const submitted: { model: string; input: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let n = 0;
  const client = {
    url: 'memory:',
    address: keys.address,
    keys,
    async submit(req) {
      submitted.push({ model: req.model, input: hashPayload(req.input) });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return { jobId: `${label}-${n++}`, inputHash: hashPayload(req.input), sentAtMs: Date.now() };
    },
    async wait(jobId) {
      await new Promise((r) => setTimeout(r, holdMs));
      inFlight--;
      return { id: jobId, status: 'settled', ttftMs: 1, receipt: null } as unknown as JobView;
    },
  } as Pick<Client, 'url' | 'address' | 'keys' | 'submit' | 'wait'> as Client;
  return { client, submitted, maxInFlight: () => maxInFlight };
}

describe('runLoad', () => {
  it('submits the same models and inputs for the same seed, and different ones for another seed', async () => {
    const run = async (seed: number) => {
      const c = recordingClient('a', 1);
      await runLoad({ clients: [c.client], ratePerSec: 200, models: { digits: 3, charlm: 1 }, maxPriceMicro: 1000n, concurrency: 1000, durationMs: 150, seed });
      return c.submitted;
    };
    const [a, b, other] = [await run(1), await run(1), await run(2)];
    const k = Math.min(a.length, b.length);
    expect(k).toBeGreaterThan(5);
    expect(a.slice(0, k)).toEqual(b.slice(0, k));
    expect(other.slice(0, k)).not.toEqual(a.slice(0, k));
    expect(new Set(a.map((x) => x.model))).toEqual(new Set(['digits', 'charlm']));
  });

  it('never has more jobs in flight per client than its concurrency, and counts the arrivals it skipped', async () => {
    const c = recordingClient('b', 60);
    const summary = await runLoad({ clients: [c.client], ratePerSec: 300, models: { digits: 1 }, maxPriceMicro: 1000n, concurrency: 2, durationMs: 200, seed: 3 });
    expect(c.maxInFlight()).toBeLessThanOrEqual(2);
    expect(summary.throttled).toBeGreaterThan(0);
    expect(summary.settled).toBe(c.submitted.length);
  });
});
