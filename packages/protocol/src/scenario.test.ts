import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { parseScenario, SCENARIO_SCHEMA } from './scenario-parse.js';

const base = () => ({
  name: 'small',
  seed: 7,
  durationMs: 10_000,
  params: { auditRate: 0.2 },
  miners: [
    { count: 2, strategy: 'honest' },
    { name: 'cheat', count: 1, strategy: 'lazy' },
  ],
  validators: [{ count: 2, strategy: 'honest' }],
  clients: [{ count: 1, ratePerSec: 5, models: { digits: 1 } }],
});

function errorOf(json: unknown): InfermarketError {
  try {
    parseScenario(json);
  } catch (e) {
    if (e instanceof InfermarketError) return e;
    throw e;
  }
  throw new Error('expected parseScenario to throw');
}

function errorOf2(json: unknown, knownModels: string[]): InfermarketError {
  try {
    parseScenario(json, { knownModels });
  } catch (e) {
    if (e instanceof InfermarketError) return e;
    throw e;
  }
  throw new Error('expected parseScenario to throw');
}

describe('parseScenario', () => {
  it('accepts a valid scenario and returns a copy', () => {
    const json = base();
    const s = parseScenario(json);
    expect(s).toEqual(json);
    expect(s).not.toBe(json);
  });

  it('error: names the path of a bad strategy and lists the choices', () => {
    const json = base();
    (json.miners[1] as { strategy: string }).strategy = 'lazzy';
    const e = errorOf(json);
    expect(e.code).toBe('ERR_BAD_SCENARIO');
    expect(e.message).toMatch(/^miners\[1\]\.strategy must be one of honest, lazy, downgrade, replay, flaky, slow, adaptive or a strategy module path like "\.\/my-strategy\.js", got "lazzy"/);
    expect(e.details?.field).toBe('miners[1].strategy');
  });

  it('error: rejects unknown fields with their path', () => {
    const json = { ...base(), clients: [{ count: 1, ratePerSec: 5, models: { digits: 1 }, rate: 3 }] };
    expect(errorOf(json).message).toMatch(/^clients\[0\]\.rate is not a known field/);
    expect(errorOf({ ...base(), extra: 1 }).message).toMatch(/^extra is not a known field/);
  });

  it('error: names missing required fields and wrong types', () => {
    const { seed: _seed, ...noSeed } = base();
    expect(errorOf(noSeed).message).toMatch(/^seed is required/);
    expect(errorOf({ ...base(), durationMs: '10s' }).message).toMatch(/^durationMs must be an integer, got "10s"/);
    expect(errorOf({ ...base(), miners: [{ count: 1, strategy: 'honest', stakeMicro: '-5' }] }).message).toMatch(/^miners\[0\]\.stakeMicro must match/);
    expect(errorOf({ ...base(), sim: { costPerCpuSecondMicro: 5 } }).message).toMatch(/^sim\.costPerCpuSecondMicro must be a decimal string amount in micro-mUSD, got 5/);
    expect(errorOf(null).message).toMatch(/^\(root\) must be an object/);
  });

  it('error: checks protocol params with the protocol rules, under params.<name>', () => {
    const e = errorOf({ ...base(), params: { auditRate: 2 } });
    expect(e.message).toMatch(/^params\.auditRate: "auditRate" must be a number in fraction between 0 and 1, got 2/);
    expect(errorOf({ ...base(), params: { auditRat: 0.1 } }).details?.field).toBe('params.auditRat');
  });

  it('error: an explicit group name used twice, in any role, names the JSON path', () => {
    const json = { ...base(), miners: [{ name: 'a', count: 1, strategy: 'honest' }, { name: 'a', count: 1, strategy: 'lazy' }] };
    const e = errorOf(json);
    expect(e.code).toBe('ERR_BAD_SCENARIO');
    expect(e.message).toMatch(/^miners\[1\]\.name "a" is already used by miners\[0\]/);
    expect(e.details?.field).toBe('miners[1].name');
    const across = { ...base(), validators: [{ name: 'cheat', count: 1, strategy: 'honest' }] };
    expect(errorOf(across).message).toMatch(/^validators\[0\]\.name "cheat" is already used by miners\[1\]/);
    const client = { ...base(), clients: [{ name: 'cheat', count: 1, ratePerSec: 1, models: { digits: 1 } }] };
    expect(errorOf(client).details?.field).toBe('clients[0].name');
  });

  it('unknown model ids are ERR_BAD_SCENARIO when the known models are given, in miner, validator and client groups', () => {
    const knownModels = ['digits', 'charlm', 'heavy'];
    expect(() => parseScenario(base(), { knownModels })).not.toThrow();
    const m = { ...base(), miners: [{ count: 1, strategy: 'honest', models: ['digits', 'gpt5'] }] };
    expect(errorOf2(m, knownModels).message).toMatch(/^miners\[0\]\.models\[1\] "gpt5" is not a known model; known models are digits, charlm, heavy/);
    const v = { ...base(), validators: [{ count: 1, strategy: 'honest', models: ['gpt5'] }] };
    expect(errorOf2(v, knownModels).details?.field).toBe('validators[0].models[0]');
    const c = { ...base(), clients: [{ count: 1, ratePerSec: 1, models: { digits: 1, gpt5: 1 } }] };
    const e = errorOf2(c, knownModels);
    expect(e.code).toBe('ERR_BAD_SCENARIO');
    expect(e.details?.field).toBe('clients[0].models.gpt5');
    // without the list the parse stays pure and checks only the shape
    expect(() => parseScenario(m)).not.toThrow();
  });

  it('error: collusion partners and fault targets must name node instances', () => {
    const v = { ...base(), validators: [{ count: 1, strategy: 'colluding', colludeWith: ['cheat-0', 'cheat-1'] }] };
    expect(errorOf(v).message).toMatch(/^validators\[0\]\.colludeWith\[1\] "cheat-1" is not a miner instance; miners are honest-0, honest-1, cheat-0/);
    const f = { ...base(), faults: [{ atMs: 5, action: 'kill', target: 'market' }, { atMs: 9, action: 'kill', target: 'honest-2' }] };
    expect(errorOf(f).message).toMatch(/^faults\[1\]\.target "honest-2" is not "market" or a node instance/);
    expect(() => parseScenario({ ...base(), faults: [{ atMs: 5, action: 'kill', target: 'cheat-0', restartAfterMs: 10 }] })).not.toThrow();
  });

  it('accepts pricing as one amount or per model', () => {
    const json = base();
    (json.miners[0] as Record<string, unknown>).pricing = { priceMicro: { digits: '100', charlm: '300' } };
    expect(() => parseScenario(json)).not.toThrow();
    (json.miners[0] as Record<string, unknown>).pricing = { priceMicro: 100 };
    expect(errorOf(json).message).toMatch(/^miners\[0\]\.pricing\.priceMicro must be a decimal string amount in micro-mUSD or an object/);
  });

  it('the shipped schema file equals SCENARIO_SCHEMA and every shipped scenario parses', () => {
    const root = new URL('../../../scenarios/', import.meta.url);
    const file = JSON.parse(readFileSync(new URL('scenario.schema.json', root), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(SCENARIO_SCHEMA)));
    for (const f of readdirSync(root)) {
      if (!f.endsWith('.json') || f === 'scenario.schema.json') continue;
      expect(() => parseScenario(JSON.parse(readFileSync(new URL(f, root), 'utf8'))), f).not.toThrow();
    }
  });
});
