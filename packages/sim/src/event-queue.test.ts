import { describe, expect, it } from 'vitest';
import { createEventQueue } from './event-queue.js';
import { createRng, deriveSeed } from './rng.js';

describe('event queue and rng', () => {
  it('pops by time, and events at the same time in insertion order', () => {
    const q = createEventQueue<string>();
    const rng = createRng(3);
    const pushed: { t: number; v: string }[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t = rng.int(50);
      pushed.push({ t, v: `e${i}` });
      q.push(t, `e${i}`);
    }
    const expected = [...pushed].sort((a, b) => a.t - b.t).map((e) => e.v); // Array.sort is stable
    const got: string[] = [];
    while (q.size) got.push(q.pop()!);
    expect(got).toEqual(expected);
    expect(q.pop()).toBeUndefined();
    expect(q.peekTime()).toBe(Infinity);
  });

  it('a seed gives the same stream; different seeds and run indices differ', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRng(43).next()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(deriveSeed(7, 0)).toBe(deriveSeed(7, 0));
    expect(new Set(Array.from({ length: 100 }, (_, i) => deriveSeed(7, i))).size).toBe(100);
    expect(deriveSeed(7, 1)).not.toBe(deriveSeed(8, 1));
  });
});
