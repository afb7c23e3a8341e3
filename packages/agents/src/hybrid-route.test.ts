import { describe, expect, it } from 'vitest';
import { checkHybrid, hybridFallsBack, hybridFirstRoute } from './hybrid-route.js';

describe('hybrid routing rule', () => {
  it('split sends latency-sensitive jobs to the baseline and never falls back; fallback starts on the market', () => {
    expect(hybridFirstRoute('split', true)).toBe('cloud');
    expect(hybridFirstRoute('split', false)).toBe('market');
    expect(hybridFirstRoute('fallback', true)).toBe('market');
    expect(hybridFallsBack('split', { outcome: 'failed', elapsedMs: 9_999 }, 100)).toBe(false);
  });
  it('fallback goes to the baseline on a refusal, a failure, or the deadline without settlement', () => {
    expect(hybridFallsBack('fallback', { outcome: 'pending', elapsedMs: 99 }, 100)).toBe(false);
    expect(hybridFallsBack('fallback', { outcome: 'pending', elapsedMs: 100 }, 100)).toBe(true);
    expect(hybridFallsBack('fallback', { outcome: 'failed', elapsedMs: 1 }, 100)).toBe(true);
    expect(hybridFallsBack('fallback', { outcome: 'refused', elapsedMs: 0 }, 100)).toBe(true);
    expect(hybridFallsBack('fallback', { outcome: 'settled', elapsedMs: 500 }, 100)).toBe(false);
  });
  it('error: a bad policy or deadline is refused naming the field', () => {
    expect(() => checkHybrid('random', 1)).toThrow(/"policy"/);
    expect(() => checkHybrid('split', -1)).toThrow(/"fallbackAfterMs"/);
  });
});
