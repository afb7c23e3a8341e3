import { parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { applyOverrides } from './overrides.js';

const s = parseScenario({
  name: 'o',
  seed: 1,
  durationMs: 1_000,
  miners: [
    { count: 1, strategy: 'honest' },
    { name: 'cheat', count: 2, strategy: 'lazy', stakeMicro: '5000' },
  ],
  validators: [{ count: 1, strategy: 'honest' }],
  clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 } }],
});

describe('applyOverrides', () => {
  it('sets protocol params, sim knobs and group fields by index or name, without touching the input', () => {
    const o = applyOverrides(s, {
      auditRate: '0.3',
      'params.slashFractionBps': 100,
      'sim.costPerCpuSecondMicro': 2000,
      'sim.adaptive.epsilon': '0.2',
      'miners[1].count': '5',
      'miners.cheat.stakeMicro': 9000,
      'clients[0].ratePerSec': '2.5',
    });
    expect(o.params).toEqual({ auditRate: '0.3', slashFractionBps: 100 });
    expect(o.sim).toEqual({ costPerCpuSecondMicro: '2000', adaptive: { epsilon: 0.2 } });
    expect(o.miners[1]).toMatchObject({ count: 5, stakeMicro: '9000' });
    expect(o.clients[0]!.ratePerSec).toBe(2.5);
    expect(s.miners[1]!.count).toBe(2);
    expect(s.params).toBeUndefined();
  });

  it('error: names a bad override or the path it breaks', () => {
    expect(() => applyOverrides(s, { seed: 3 })).toThrow(/seed is set by --seed/);
    expect(() => applyOverrides(s, { 'params.nope': 1 })).toThrow(/unknown protocol parameter "nope"/);
    expect(() => applyOverrides(s, { 'miners.ghost.count': 1 })).toThrow(/no miners group named "ghost"/);
    expect(() => applyOverrides(s, { 'miners[7].count': 1 })).toThrow(/index 7 is out of range/);
    expect(() => applyOverrides(s, { 'miners[0].count': 'many' })).toThrow(/^miners\[0\]\.count must be an integer, got "many"/);
  });
});
