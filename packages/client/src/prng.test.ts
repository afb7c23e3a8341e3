import { describe, expect, it } from 'vitest';
import { createRng } from './prng.js';

describe('client load generator', () => {
  it('keeps its seeded stream (recorded seeds reproduce the same arrivals and inputs)', () => {
    // values recorded from the client's earlier standalone sfc32: moving onto the agents' generator changed nothing
    const r = createRng(42, 'client-0/arrivals');
    expect([r.next(), r.int(1000), r.exp(10), r.next()]).toEqual([0.1406523510813713, 124, 7.561041199264339, 0.9128500006627291]);
  });
});
