import { readFileSync } from 'node:fs';
import { pricePath } from '@infermarket/agents';
import { oracleSpec } from '@infermarket/sim';
import { describe, expect, it } from 'vitest';
import { parseScenario, resolveScenario } from '@infermarket/protocol';
import { planTestnet } from './plan.js';

const load = (name: string) => parseScenario(JSON.parse(readFileSync(new URL(`../../../../scenarios/${name}.json`, import.meta.url), 'utf8')));
const arg = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('planTestnet', () => {
  it('sim-small (groups without names): every node its own name, key label, key and log', () => {
    const plan = planTestnet(load('sim-small'), { durationMs: 1000 });
    const ids = plan.nodes.map((n) => n.id);
    expect(ids).toEqual(['honest-0', 'honest-1', 'honest-2', 'lazy-0', 'lazy-1', 'validator-0', 'validator-1', 'validator-2']);
    const keySeeds = plan.nodes.map((n) => arg(n.args, '--key-seed'));
    expect(new Set(keySeeds).size).toBe(ids.length);
    expect(new Set(plan.nodes.map((n) => n.address)).size).toBe(ids.length);
    // client keys are distinct from node keys too
    expect(plan.names.size).toBe(ids.length + plan.loads.reduce((a, l) => a + l.addresses.length, 0));
  });

  it('passes the resolved stakes and per-model prices to the node processes', () => {
    const s = load('sim-small');
    const plan = planTestnet(s, { durationMs: 1000 });
    const resolved = resolveScenario(s);
    expect(plan.resolved).toEqual(resolved);
    for (const m of resolved.miners) {
      const node = plan.nodes.find((n) => n.id === m.name)!;
      expect(arg(node.args, '--stake')).toBe(m.stakeMicro);
      expect(JSON.parse(arg(node.args, '--pricing')!)).toEqual(m.priceMicro);
      expect(arg(node.args, '--concurrency')).toBe(String(m.concurrency));
    }
    // a group without pricing gets the per-model defaults (charlm ×4)
    const bare = parseScenario({ ...s, miners: [{ count: 1, strategy: 'lazy' }] });
    const lazy = planTestnet(bare, { durationMs: 1000 }).nodes.find((n) => n.id === 'lazy-0')!;
    expect(JSON.parse(arg(lazy.args, '--pricing')!)).toEqual({ charlm: '4000', digits: '1000' });
    expect(arg(lazy.args, '--stake')).toBe('100000000');
    for (const v of resolved.validators) expect(arg(plan.nodes.find((n) => n.id === v.name)!.args, '--stake')).toBe(v.stakeMicro);
  });

  it('a colluding validator gets the addresses of the miners it names', () => {
    const plan = planTestnet(load('adversarial'), { durationMs: 1000 });
    const colluder = plan.nodes.find((n) => n.id === 'colluder-0')!;
    expect(arg(colluder.args, '--collude-with')).toBe(plan.nodes.find((n) => n.id === 'replay-0')!.address);
  });

  it('a client group with batchRows runs a load generator sending batch jobs of that many rows', () => {
    const s = load('sim-small');
    const batch = parseScenario({ ...s, clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 }, batchRows: 16 }] });
    const plan = planTestnet(batch, { durationMs: 1000 });
    expect(arg(plan.loads[0]!.args('http://127.0.0.1:1'), '--batch-rows')).toBe('16');
    expect(arg(planTestnet(s, { durationMs: 1000 }).loads[0]!.args('http://127.0.0.1:1'), '--batch-rows')).toBeUndefined();
  });

  it('runs the economics section live: the simulator\'s price path for the oracle, USD costs and churn for miners, IMT treasuries for clients', () => {
    const econ = parseScenario(JSON.parse(readFileSync(new URL('../../../../scenarios/sim-only/economics.json', import.meta.url), 'utf8')));
    const plan = planTestnet(econ, { durationMs: 30_000 });
    // the oracle publishes the same seeded path a simulation of the scenario publishes
    const simPath = pricePath(oracleSpec(econ), { seed: econ.seed, durationMs: 30_000 });
    expect(plan.oracle!.points.slice(0, simPath.length)).toEqual(simPath.map((p) => [p.atMs, p.priceMicro.toString()]));
    expect(plan.oracle!.seed).toBe(16);
    const lean = plan.nodes.find((n) => n.id === 'lean-0')!;
    const costly = plan.nodes.find((n) => n.id === 'costly-1')!;
    expect(arg(lean.args, '--usd-cost-per-compute-second')).toBe('1200000');
    expect(arg(costly.args, '--usd-cost-per-compute-second')).toBe('1700000');
    expect(JSON.parse(arg(lean.args, '--churn')!)).toEqual({ checkEveryMs: 2000, checksToLeave: 3, checksToReturn: 3, minDwellMs: 10000, holdMs: 20000, trendHalfLifeMs: 10000 });
    // token pricing: the clients' treasury is IMT (default: the faucet cap)
    expect(plan.loads[0]!.fundToken).toBe('IMT');
    expect(arg(plan.loads[0]!.args('http://x'), '--faucet-token')).toBe('IMT');
    // a stable scenario without economics runs no oracle and no churn
    const plain = planTestnet(load('sim-small'), { durationMs: 1000 });
    expect(plain.oracle).toBeNull();
    expect(plain.nodes.every((n) => !n.args.includes('--churn'))).toBe(true);
  });

  it('a hybrid client group routes through the baseline the testnet starts: its load gets the policy and the cloud URL', () => {
    const s = load('sim-small');
    const hybrid = { ...s, clients: s.clients!.map((c, i) => (i === 0 ? { ...c, hybrid: { policy: 'fallback' as const, fallbackAfterMs: 700 } } : c)) };
    const plan = planTestnet(hybrid as typeof s, { durationMs: 1000 });
    expect(plan.cloud).toEqual({ priceMicro: '10000' });
    expect(plan.loads[0]!.hybrid).toEqual({ policy: 'fallback', fallbackAfterMs: 700, latencySensitiveModels: ['charlm'] });
    const args = plan.loads[0]!.args('http://market', 'http://cloud');
    expect(JSON.parse(arg(args, '--hybrid')!)).toEqual({ policy: 'fallback', fallbackAfterMs: 700, latencySensitiveModels: ['charlm'] });
    expect(arg(args, '--cloud')).toBe('http://cloud');
    expect(() => plan.loads[0]!.args('http://market')).toThrow(/baseline/);
    expect(planTestnet(s, { durationMs: 1000 }).cloud).toBeNull();
    // a bad policy is refused naming the field, before anything starts
    const bad = { ...s, clients: s.clients!.map((c) => ({ ...c, hybrid: { policy: 'random' } })) };
    expect(() => planTestnet(bad as unknown as typeof s, { durationMs: 1000 })).toThrow(expect.objectContaining({ details: { field: 'policy' } }));
  });
});
