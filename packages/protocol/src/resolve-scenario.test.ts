import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyPairFromSeed, seedFromLabel } from './crypto.js';
import { InfermarketError } from './errors.js';
import { DEFAULT_PARAMS } from './params.js';
import { resolveScenario, SCENARIO_DEFAULTS, scenarioGroupNames } from './resolve-scenario.js';
import { parseScenario } from './scenario-parse.js';

const simSmall = () =>
  parseScenario({
    name: 'sim-small',
    seed: 1,
    durationMs: 60_000,
    params: { auditRate: 0.2 },
    miners: [
      { count: 3, strategy: 'honest', pricing: { priceMicro: '1000', spreadBps: 500 } },
      { count: 2, strategy: 'lazy' },
    ],
    validators: [{ count: 3, strategy: 'honest' }],
    clients: [{ count: 4, ratePerSec: 10, models: { digits: 3, charlm: 1 } }],
  });

const nodeNames = (r: ReturnType<typeof resolveScenario>): string[] => [...r.miners, ...r.validators].map((n) => n.name);

describe('resolveScenario', () => {
  it('groups without a name get instance names unique across roles (miners and validators both "honest")', () => {
    const r = resolveScenario(simSmall());
    expect(r.miners.map((m) => m.name)).toEqual(['honest-0', 'honest-1', 'honest-2', 'lazy-0', 'lazy-1']);
    expect(r.validators.map((v) => v.name)).toEqual(['validator-0', 'validator-1', 'validator-2']);
    expect(r.clients[0]!.instances).toEqual(['client-0', 'client-1', 'client-2', 'client-3']);
    const all = [...nodeNames(r), ...r.clients.flatMap((c) => c.instances)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('derived names step around explicit ones and each other, in every role', () => {
    const names = scenarioGroupNames({
      miners: [
        { count: 1, strategy: 'honest' },
        { count: 1, strategy: 'honest' },
        { name: 'validator', count: 1, strategy: 'lazy' },
      ],
      validators: [{ count: 1, strategy: 'honest' }, { count: 1, strategy: 'lazy' }, { name: 'honest-g3', count: 1, strategy: 'honest' }],
      clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 } }, { count: 1, ratePerSec: 1, models: { digits: 1 } }],
    });
    expect(names).toEqual({ miners: ['honest', 'honest-g2', 'validator'], validators: ['validator-g2', 'lazy-validator', 'honest-g3'], clients: ['client', 'client-g2'] });
  });

  it('every node gets its own key label and address', () => {
    for (const s of [simSmall(), shipped().find((x) => x.name === 'adversarial')!]) {
      const r = resolveScenario(s);
      const labels = [...r.miners, ...r.validators].map((n) => n.keyLabel).concat(r.clients.flatMap((c) => c.keyLabels));
      expect(new Set(labels).size).toBe(labels.length);
      const addresses = labels.map((l) => keyPairFromSeed(seedFromLabel(l)).address);
      expect(new Set(addresses).size).toBe(addresses.length);
      expect(r.miners[0]!.keyLabel).toBe(`testnet/${s.seed}/${r.miners[0]!.name}`);
    }
  });

  it('applies the one set of defaults: stake = the role minimum, prices per model, client max price per model', () => {
    const r = resolveScenario(simSmall());
    const lazy = r.miners.find((m) => m.name === 'lazy-0')!;
    expect(lazy.stakeMicro).toBe(DEFAULT_PARAMS.minMinerStakeMicro.toString());
    expect(r.validators[0]!.stakeMicro).toBe(DEFAULT_PARAMS.minValidatorStakeMicro.toString());
    expect(lazy.models).toEqual(['charlm', 'digits']);
    expect(lazy.priceMicro).toEqual({ charlm: SCENARIO_DEFAULTS.minerPriceMicroByModel.charlm!.toString(), digits: SCENARIO_DEFAULTS.minerPriceMicroByModel.digits!.toString() });
    expect(lazy.priceMicro.charlm).toBe('4000');
    // one price for all models when the group gives one
    expect(r.miners[0]!.priceMicro).toEqual({ charlm: '1000', digits: '1000' });
    expect(r.miners[0]!.spreadBps).toBe(500);
    expect(lazy.cheatProbability).toBe(1);
    expect(lazy.concurrency).toBe(SCENARIO_DEFAULTS.minerConcurrency);
    expect(r.clients[0]!.maxPriceMicro).toEqual({ digits: '100000', charlm: '100000' });
    expect(r.params.auditRate).toBe(0.2);
    expect(r.params.minMinerStakeMicro).toBe(DEFAULT_PARAMS.minMinerStakeMicro.toString());
    expect(r.seed).toBe(1);
  });

  it('a stake set by the params minimum follows the params; an explicit stake wins', () => {
    const s = parseScenario({
      name: 'x',
      seed: 3,
      durationMs: 1000,
      params: { minMinerStakeMicro: '7000', minValidatorStakeMicro: '9000', jobDeadlineMs: 3000 },
      miners: [{ count: 1, strategy: 'slow' }, { count: 1, strategy: 'flaky', stakeMicro: '123456', models: ['heavy'] }],
      validators: [{ count: 1, strategy: 'colluding', colludeWith: ['slow-0'] }],
      clients: [{ count: 1, ratePerSec: 1, models: { heavy: 1 } }],
    });
    const r = resolveScenario(s);
    expect(r.miners[0]!.stakeMicro).toBe('7000');
    expect(r.miners[0]!.slowExtraMs).toBe(2000);
    expect(r.miners[0]!.priceMicro).toEqual({ heavy: '20000' });
    expect(r.miners[1]!.stakeMicro).toBe('123456');
    expect(r.miners[1]!.cheatProbability).toBe(SCENARIO_DEFAULTS.flakyDropProbability);
    expect(r.validators[0]!).toMatchObject({ name: 'colluding-validator-0', stakeMicro: '9000', colludeWith: ['slow-0'] });
  });

  it('error: a per-model price table that misses a served model names the JSON path', () => {
    const json = {
      name: 'x',
      seed: 3,
      durationMs: 1000,
      miners: [{ count: 1, strategy: 'honest', pricing: { priceMicro: { digits: '500' } } }],
      validators: [],
      clients: [{ count: 1, ratePerSec: 1, models: { digits: 1, charlm: 1 } }],
    };
    let err: unknown;
    try {
      parseScenario(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InfermarketError);
    expect((err as InfermarketError).code).toBe('ERR_BAD_SCENARIO');
    expect((err as InfermarketError).message).toMatch(/^miners\[0\]\.pricing\.priceMicro gives no price for model "charlm"/);
  });

  it('is deterministic and JSON-safe (it goes into every report)', () => {
    const a = resolveScenario(simSmall());
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(resolveScenario(simSmall())).toEqual(a);
  });

  it('every shipped scenario resolves with distinct node names and addresses', () => {
    const list = shipped();
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const s of list) {
      const r = resolveScenario(s);
      const names = nodeNames(r);
      expect(new Set(names).size, s.name).toBe(names.length);
      const addrs = [...r.miners, ...r.validators].map((n) => keyPairFromSeed(seedFromLabel(n.keyLabel)).address);
      expect(new Set(addrs).size, s.name).toBe(addrs.length);
      for (const m of r.miners) expect(Object.keys(m.priceMicro).sort(), `${s.name} ${m.name}`).toEqual([...m.models].sort());
    }
  });
});

function shipped() {
  const root = new URL('../../../scenarios/', import.meta.url);
  return readdirSync(root)
    .filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json')
    .map((f) => parseScenario(JSON.parse(readFileSync(new URL(f, root), 'utf8'))));
}
