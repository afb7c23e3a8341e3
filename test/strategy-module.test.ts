import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabeledRng, builtinMinerStrategy, builtinValidatorStrategy, createMinerStrategy, createValidatorStrategy, planJob, planTask, type MinerStrategyModule } from '@infermarket/agents';
import { loadScenarioStrategies, loadStrategyModule } from '@infermarket/node-runtime';
import { InfermarketError, parseScenario } from '@infermarket/protocol';
import { runSimulation } from '@infermarket/sim';
import { describeRun, removeRun, runCli, runScenario } from './testnet-helpers.js';

// A user's strategy module, loaded through the same interface the built-in strategies implement:
// the loader (good module, bad modules with clear errors), the built-ins through the interface, the
// example module in the simulator and on a live testnet (`infermarket miner --strategy <module>`).

const EXAMPLE = fileURLToPath(new URL('../examples/strategies/cheap-cheat.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'infermarket-strategy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeModule(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function errorOf(p: Promise<unknown>): Promise<InfermarketError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InfermarketError) return e;
    throw e;
  }
  throw new Error('expected an InfermarketError');
}

describe('loadStrategyModule', () => {
  it('loads the example module and checks its role', async () => {
    const mod = await loadStrategyModule(EXAMPLE, { role: 'miner' });
    expect(mod.role).toBe('miner');
    expect(mod.name).toBe('cheap-cheat');
    const e = await errorOf(loadStrategyModule(EXAMPLE, { role: 'validator' }));
    expect(e.code).toBe('ERR_BAD_STRATEGY');
    expect(e.message).toContain(EXAMPLE);
    expect(e.message).toMatch(/is a miner strategy, but a validator strategy is needed/);
  });

  it('resolves a relative path against baseDir and accepts named exports', async () => {
    writeModule('named.mjs', "export const role = 'validator'; export const name = 'always-check'; export function create() { return { planTask: () => 'reexecute' }; }\n");
    const mod = await loadStrategyModule('./named.mjs', { role: 'validator', baseDir: dir });
    expect(mod.name).toBe('always-check');
    const inst = createValidatorStrategy(mod, { rng: createLabeledRng(1, 'v') });
    expect(inst.planTask({ purpose: 'audit', jobId: 'j', minerIsPartner: true })).toBe('reexecute');
  });

  it.each([
    ['missing.js', null, /no such file/],
    ['syntax.js', 'export default {', /cannot be imported/],
    ['nodefault.js', 'export const x = 1;\n', /exports no strategy/],
    ['norole.js', "export default { name: 'x', create() {} };\n", /export "role" must be "miner" or "validator", got undefined/],
    ['noname.js', "export default { role: 'miner', create() {} };\n", /export "name" must match/],
    ['builtin.js', "export default { role: 'miner', name: 'lazy', create() {} };\n", /"lazy" is a built-in strategy's name/],
    ['nocreate.js', "export default { role: 'miner', name: 'x' };\n", /export "create" must be a function \(init\) => instance, got undefined/],
  ])('refuses %s with ERR_BAD_STRATEGY naming the path, the export and the expected shape', async (file, text, why) => {
    const path = text === null ? join(dir, file) : writeModule(file, text);
    const e = await errorOf(loadStrategyModule(path, { role: 'miner' }));
    expect(e.code).toBe('ERR_BAD_STRATEGY');
    expect(e.message).toContain(path);
    expect(e.message).toMatch(why);
    if (text !== null && !text.startsWith('export default {\n') && file !== 'syntax.js') expect(e.message).toMatch(/expected export default \{ role: 'miner', name: 'my-miner', create\(init\)/);
  });

  it('checks the instance and every decision a module makes', async () => {
    const noPlan = await loadStrategyModule(writeModule('noplan.js', "export default { role: 'miner', name: 'np', create() { return { bidPrice: () => 1n }; } };\n"), { role: 'miner' });
    expect(() => createMinerStrategy(noPlan, { variant: 'int8', rng: createLabeledRng(1, 'm') })).toThrow(/"np": the instance create\(init\) returns has no function "planJob"/);
    const badPlan = await loadStrategyModule(
      writeModule('badplan.js', "export default { role: 'miner', name: 'bp', create() { return { bidPrice: () => 5, planJob: () => ({ kind: 'cheat' }) }; } };\n"),
      { role: 'miner' },
    );
    const inst = createMinerStrategy(badPlan, { variant: 'int8', rng: createLabeledRng(1, 'm') });
    const rng = createLabeledRng(1, 'x');
    const e1 = (() => {
      try {
        inst.planJob({ jobId: 'j', model: 'digits', priceMicro: 1n, deadlineMs: 1000, hasReplay: false }, rng);
      } catch (e) {
        return e as InfermarketError;
      }
      return null;
    })();
    expect(e1?.code).toBe('ERR_BAD_STRATEGY');
    expect(e1?.message).toMatch(/planJob returned \{"kind":"cheat"\}/);
    expect(() => inst.bidPrice({ model: 'digits', baseMicro: 5n, spreadBps: 0, maxPriceMicro: 10n, worstCase: (p) => p }, rng)).toThrow(/bidPrice returned 5; it must return a bigint/);
  });
});

describe('the built-in strategies go through the same interface', () => {
  it('a built-in module decides exactly as planJob / planTask with the same coin flips', () => {
    for (const s of ['honest', 'lazy', 'downgrade', 'replay', 'flaky', 'slow'] as const) {
      const inst = createMinerStrategy(builtinMinerStrategy(s), { variant: 'fp16', cheatProbability: 0.5, rng: createLabeledRng(3, 'l') });
      const a = createLabeledRng(9, s);
      const b = createLabeledRng(9, s);
      for (let i = 0; i < 50; i++) {
        const ctx = { deadlineMs: 900, hasReplay: i % 3 === 0 };
        expect(inst.planJob({ jobId: `j${i}`, model: 'digits', priceMicro: 10n, ...ctx }, a)).toEqual(planJob({ strategy: s, variant: 'fp16', cheatProbability: 0.5 }, ctx, b));
      }
    }
    for (const s of ['honest', 'lazy', 'colluding'] as const) {
      const inst = createValidatorStrategy(builtinValidatorStrategy(s), { rng: createLabeledRng(1, 'v') });
      for (const minerIsPartner of [true, false]) for (const purpose of ['audit', 'dispute'] as const) expect(inst.planTask({ purpose, jobId: 'j', minerIsPartner })).toBe(planTask(s, { purpose, minerIsPartner }));
    }
  });

  it('the built-in adaptive miner learns through the learning hook', () => {
    const inst = createMinerStrategy(builtinMinerStrategy('adaptive'), { variant: 'int8', adaptive: { cheatLevels: [0, 1], epsilon: 0 }, rng: createLabeledRng(1, 'bandit') });
    const rng = createLabeledRng(2, 'plan');
    const ctx = { model: 'digits', priceMicro: 10n, deadlineMs: 1000, hasReplay: false };
    inst.planJob({ jobId: 'a', ...ctx }, rng); // arm 0 (untried first)
    inst.planJob({ jobId: 'b', ...ctx }, rng); // arm 1
    expect(inst.learn('b', { kind: 'slashed', paidMicro: 0, slashedMicro: 1000, penaltyMicro: 0, jailed: true, costMicro: 0 })).toEqual({ level: 1, reward: -1000 }); // charged the full cost: the slash
    expect(inst.learn('a', { kind: 'settled', paidMicro: 10, slashedMicro: 0, penaltyMicro: 0, jailed: false, costMicro: 0 })).toEqual({ level: 0, reward: 10 });
    expect(inst.learner!.table().map((r) => r.meanProfitMicro)).toEqual([10, -1000]);
    // each job is taught once
    expect(inst.learn('a', { kind: 'settled', paidMicro: 10, slashedMicro: 0, penaltyMicro: 0, jailed: false, costMicro: 0 })).toBeUndefined();
  });
});

// ---- the example module in the simulator ----

function simScenario(modulePath: string, priceMicro: string): Record<string, unknown> {
  return {
    name: 'user-strategy',
    seed: 11,
    durationMs: 30_000,
    // standing offers at one price: the seeded stake-weighted draw gives the sly miners jobs too (lowest price
    // would give every job to the first offers posted, the honest ones, while they have a free slot)
    params: { matchingPolicy: 'stake-weighted-random', auditRate: 0.5, jailDurationMs: 600_000 },
    miners: [
      { name: 'honest', count: 2, strategy: 'honest', pricing: { priceMicro } },
      { name: 'sly', count: 2, strategy: modulePath, pricing: { priceMicro } },
    ],
    validators: [{ count: 2, strategy: 'honest' }],
    clients: [{ count: 2, ratePerSec: 5, models: { digits: 1 }, maxPriceMicro: '1000000' }],
  };
}

describe('a user strategy module in the simulator', () => {
  it('a scenario group may name a module; it needs a name, and must be loaded before the run', () => {
    const noName = simScenario(EXAMPLE, '1000');
    delete ((noName.miners as Record<string, unknown>[])[1] as Record<string, unknown>).name;
    expect(() => parseScenario(noName)).toThrow(/miners\[1\]\.name is required when strategy is a module path/);
    expect(() => runSimulation(parseScenario(simScenario(EXAMPLE, '1000')))).toThrow(/strategy module .*cheap-cheat\.js is not loaded as a miner strategy; load the scenario's modules with loadScenarioStrategies/);
  });

  it('runs the example: cheats only on low-priced jobs, is caught, reports the module name, and replays exactly', async () => {
    const low = parseScenario(simScenario(EXAMPLE, '1000'));
    const modules = await loadScenarioStrategies(low, dir);
    const a = runSimulation(low, { strategyModules: modules });
    const b = runSimulation(low, { strategyModules: modules });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a)); // deterministic: only the injected generators
    const sly = a.miners.filter((m) => m.id.startsWith('sly-'));
    expect(sly.map((m) => m.strategy)).toEqual(['cheap-cheat', 'cheap-cheat']);
    expect(sly.reduce((s, m) => s + m.jobs, 0)).toBeGreaterThan(0);
    expect(sly.some((m) => BigInt(m.slashedMicro) > 0n)).toBe(true);
    for (const m of a.miners.filter((x) => x.id.startsWith('honest-'))) expect(m.slashedMicro).toBe('0');
    // the same miners at a high price never cheat: the module's price rule decides
    const high = parseScenario(simScenario(EXAMPLE, '20000'));
    const h = runSimulation(high, { strategyModules: await loadScenarioStrategies(high, dir) });
    const slyHigh = h.miners.filter((m) => m.id.startsWith('sly-'));
    expect(slyHigh.reduce((s, m) => s + m.jobs, 0)).toBeGreaterThan(0);
    for (const m of slyHigh) expect(m.slashedMicro).toBe('0');
  });

  it('`infermarket sim` loads a module path relative to the scenario file', async () => {
    const file = join(dir, 'scenario.json');
    const rel = relative(dir, EXAMPLE);
    expect(rel.startsWith('../')).toBe(true);
    writeFileSync(file, JSON.stringify(simScenario(rel, '1000')));
    const r = await runCli(['sim', '--scenario', file, '--out', join(dir, 'sim-out'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'sim-out', 'report.json'), 'utf8')) as { miners: { id: string; strategy: string; slashedMicro: string }[] };
    expect(report.miners.filter((m) => m.id.startsWith('sly-')).map((m) => m.strategy)).toEqual(['cheap-cheat', 'cheap-cheat']);
    // a bad module fails the run at once, naming it
    const bad = writeModule('bad-for-cli.js', "export default { role: 'miner', name: 'x' };\n");
    writeFileSync(file, JSON.stringify(simScenario('./bad-for-cli.js', '1000')));
    const r2 = await runCli(['sim', '--scenario', file, '--out', join(dir, 'sim-out2')]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/ERR_BAD_STRATEGY/);
    expect(r2.stderr).toContain('./bad-for-cli.js');
    expect(r2.stderr).toMatch(/export "create" must be a function/);
    expect(bad).toContain('bad-for-cli.js');
  }, 60_000);

  it('`infermarket miner --strategy` refuses a bad module before it connects', async () => {
    const r = await runCli(['miner', '--market', 'ws://127.0.0.1:9', '--strategy', './no-such-strategy.js', '--key-seed', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_BAD_STRATEGY.*\.\/no-such-strategy\.js: no such file/);
  }, 30_000);
});

// ---- the example module on a live testnet: `infermarket miner --strategy <module>` ----

describe('a user strategy module on a live testnet', () => {
  let run: Awaited<ReturnType<typeof runScenario>>;
  beforeAll(async () => {
    run = await runScenario(
      {
        name: 'user-strategy-live',
        seed: 5,
        durationMs: 5_000,
        params: { auditRate: 1, bidWindowMs: 200, jobDeadlineMs: 1_500, challengeWindowMs: 300, auditWindowMs: 3_000, disputeWindowMs: 3_000, disputeQuorum: 1, jailDurationMs: 60_000 },
        miners: [
          { name: 'honest', count: 1, strategy: 'honest', models: ['digits'], pricing: { priceMicro: '9000' }, concurrency: 2 },
          // the cheapest miner wins the jobs, all of them low-priced: the module cheats on them
          { name: 'sly', count: 1, strategy: EXAMPLE, models: ['digits'], pricing: { priceMicro: '4000' }, concurrency: 2 },
        ],
        validators: [{ name: 'validator', count: 1, strategy: 'honest', models: ['digits'] }],
        clients: [{ name: 'client', count: 1, ratePerSec: 4, models: { digits: 1 }, maxPriceMicro: '100000', concurrency: 2 }],
      },
      'user-strategy',
    );
  }, 120_000);
  afterAll(() => removeRun(run?.dir));

  it('the module miner runs jobs, the report names its strategy, and its learning hook hears the slash', () => {
    expect(run.code, describeRun(run)).toBe(0);
    const sly = run.report.miners.find((m) => m.id === 'sly-0')!;
    expect(sly.strategy).toBe('cheap-cheat');
    expect(sly.jobs, describeRun(run)).toBeGreaterThan(0);
    // it cheated on a low-priced job, an audit caught it, and the module was told
    expect(BigInt(sly.slashedMicro), describeRun(run)).toBeGreaterThan(0n);
    const log = readFileSync(join(run.dir, 'sly-0.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.some((l) => l.event === 'ready' && l.strategy === 'cheap-cheat')).toBe(true);
    expect(log.some((l) => l.event === 'learned' && l.outcome === 'slashed' && l.bitten === true)).toBe(true);
    expect(run.report.ledger.conserved).toBe(true);
  });
});
