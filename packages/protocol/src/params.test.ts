import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { DEFAULT_PARAMS, PARAM_NAMES, PARAM_RULES, paramsToJson, resolveParams } from './params.js';

function messageOf(overrides: Record<string, unknown>): string {
  try {
    resolveParams(overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(InfermarketError);
    expect((e as InfermarketError).code).toBe('ERR_INVALID_PARAM');
    return (e as Error).message;
  }
  throw new Error('expected resolveParams to throw');
}

describe('parameters', () => {
  it('defaults are valid, frozen and cover every rule', () => {
    expect(resolveParams()).toEqual(DEFAULT_PARAMS);
    expect(Object.isFrozen(DEFAULT_PARAMS)).toBe(true);
    expect(Object.keys(DEFAULT_PARAMS).sort()).toEqual([...PARAM_NAMES].sort());
  });

  it('accepts numeric strings from the CLI and decimal strings for amounts', () => {
    const p = resolveParams({ auditRate: '0.25', slashFractionBps: '2500', minMinerStakeMicro: '5000000' });
    expect(p.auditRate).toBe(0.25);
    expect(p.slashFractionBps).toBe(2500);
    expect(p.minMinerStakeMicro).toBe(5_000_000n);
  });

  it('does not mutate the caller\'s object', () => {
    const o = { auditRate: 0.5 };
    resolveParams(o);
    expect(o).toEqual({ auditRate: 0.5 });
  });

  it('error: names the field, the expected range and the value received', () => {
    expect(messageOf({ auditRate: 1.5 })).toBe('"auditRate" must be a number in fraction between 0 and 1, got 1.5');
    expect(messageOf({ slashFractionBps: 10_001 })).toBe('"slashFractionBps" must be an integer in bps between 0 and 10000, got 10001');
    expect(messageOf({ bidWindowMs: 2.5 })).toMatch(/^"bidWindowMs" must be an integer in ms between 1 and \d+, got 2.5$/);
    expect(messageOf({ minMinerStakeMicro: '-1' })).toMatch(/^"minMinerStakeMicro" must be an integer amount in micro-mUSD between 0 and \d+, got "-1"$/);
    expect(messageOf({ matchingPolicy: 'cheapest' })).toBe('"matchingPolicy" must be one of "lowest-price", "reputation-weighted", "stake-weighted-random", got "cheapest"');
    expect(messageOf({ auditRate: 'lots' })).toBe('"auditRate" must be a number in fraction between 0 and 1, got "lots"');
    expect(messageOf({ auditRat: 0.1 })).toMatch(/^unknown parameter "auditRat"; known parameters: auditRate, /);
  });

  it('error: slash splits must sum to 10,000 bps', () => {
    expect(messageOf({ slashBurnBps: 6_000 })).toBe(
      '"slashBurnBps" + "slashChallengerBps" + "slashHarmedBps" must sum to 10000, got 6000 + 2500 + 2500 = 11000',
    );
  });

  it('error: unbonding must outlast the challenge, audit and dispute windows', () => {
    expect(messageOf({ unbondingPeriodMs: 5_000 })).toBe(
      '"unbondingPeriodMs" must exceed challengeWindowMs + auditWindowMs + disputeWindowMs = 11000, got 5000',
    );
  });

  it('serialises amounts as decimal strings', () => {
    const j = paramsToJson(DEFAULT_PARAMS);
    expect(j.minMinerStakeMicro).toBe('100000000');
    expect(Object.keys(j)).toEqual(Object.keys(PARAM_RULES));
  });
});
