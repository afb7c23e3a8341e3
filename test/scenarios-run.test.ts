// Every shipped scenario, as it is (same node counts, same groups), runs on a live testnet for a short
// time (`--duration 2`: the load runs 2 s; start-up and drain come on top): every node gets its own
// address, every node registers at the market, and the report carries the resolved plan, so the stakes
// and prices the testnet ran with are the ones `resolveScenario` gives the simulator.
// Then the start-up failures that used to pass silently: an unknown model, a node that dies while
// starting, a model no miner serves.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyPairFromSeed, parseScenario, resolveScenario, seedFromLabel, type ResolvedScenario } from '@infermarket/protocol';
import { findQemu } from '@infermarket/inference';
import { removeRun, runCli, tempDir } from './testnet-helpers.js';

const root = new URL('../scenarios/', import.meta.url);
const shipped = readdirSync(root).filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json').sort();
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeRun));

interface Report {
  resolved: ResolvedScenario;
  miners: { id: string; address: string; stakeStartMicro: string }[];
  ledger: { conserved: boolean };
  testnet: {
    processes: { id: string; role: string; address: string; registered: boolean }[];
    registeredAtStart: { nodes: number; planned: number; minersByModel: Record<string, number> };
  };
}

describe('every shipped scenario runs on the testnet', () => {
  it('ships the scenarios this test expects', () => {
    expect(shipped).toEqual([
      'adversarial.json',
      'batch-jobs.json',
      'disputes-bisection.json',
      'economics-live.json',
      'faults.json',
      'heterogeneous.json',
      'honest-auditors.json',
      'posp-threshold.json',
      'quickstart.json',
      'sim-small.json',
      'study-posp-costly.json',
      'study-posp-sr1.json',
      'study-posp-sr10-r30.json',
      'study-posp-sr10.json',
      'study-posp-sr150-r30.json',
      'study-posp-sr150.json',
      'user-strategy.json',
    ]);
  });

  for (const file of shipped) {
    // heterogeneous.json runs miners under qemu-x86_64 (Debian's qemu-user); without it the testnet refuses
    // to start (test/heterogeneous.test.ts checks that refusal), so it runs here only where qemu exists
    const needsQemu = file === 'heterogeneous.json';
    it.runIf(!needsQemu || findQemu() !== undefined)(`${file}: distinct addresses, every node registered, the resolved plan in the report${needsQemu ? ' (needs qemu-user)' : ''}`, async () => {
      const scenario = parseScenario(JSON.parse(readFileSync(new URL(file, root), 'utf8')));
      const resolved = resolveScenario(scenario);
      const dir = tempDir(`scenario-${scenario.name}`);
      dirs.push(dir);
      const out = join(dir, 'out');
      const r = await runCli(['testnet', '--scenario', new URL(file, root).pathname, '--duration', '2', '--wait-all', '--out', out], { timeoutMs: 150_000 });
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;

      // the plan the testnet ran is the resolver's (what the simulator gets for the same file)
      expect(report.resolved).toEqual(resolved);
      const planned = [...resolved.miners, ...resolved.validators];
      const procs = report.testnet.processes;
      expect(procs.map((p) => p.id)).toEqual(planned.map((n) => n.name));
      // distinct names and addresses, each the one its key label gives
      expect(new Set(procs.map((p) => p.id)).size).toBe(procs.length);
      expect(new Set(procs.map((p) => p.address)).size).toBe(procs.length);
      procs.forEach((p, i) => expect(p.address).toBe(keyPairFromSeed(seedFromLabel(planned[i]!.keyLabel)).address));
      // every node registered: when the load started, and in the market's final view
      expect(report.testnet.registeredAtStart).toMatchObject({ nodes: planned.length, planned: planned.length });
      for (const m of resolved.clientModels) expect(report.testnet.registeredAtStart.minersByModel[m], m).toBe(resolved.miners.filter((x) => x.models.includes(m)).length);
      expect(procs.filter((p) => !p.registered).map((p) => p.id)).toEqual([]);
      // the stakes the miners bonded are the resolved ones
      for (const m of report.miners) expect(m.stakeStartMicro, m.id).toBe(resolved.miners.find((x) => x.name === m.id)!.stakeMicro);
      expect(report.ledger.conserved).toBe(true);
    }, 180_000);
  }
});

describe('the testnet refuses to run wrong', () => {
  const write = (name: string, s: Record<string, unknown>): { file: string; out: string } => {
    const dir = tempDir(`refuse-${name}`);
    dirs.push(dir);
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ name, seed: 5, durationMs: 2000, validators: [], ...s }));
    return { file, out: join(dir, 'out') };
  };

  it('an unknown model id is ERR_BAD_SCENARIO naming the JSON path, before anything starts', async () => {
    const { file, out } = write('gpt', { miners: [{ count: 1, strategy: 'honest', models: ['gpt5'] }], clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 } }] });
    const r = await runCli(['testnet', '--scenario', file, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_BAD_SCENARIO');
    expect(r.stderr).toContain('miners[0].models[0] "gpt5" is not a known model; known models are');
    expect(r.stderr).not.toContain('ready');
  });

  it('a node that dies during start-up stops the run with the tail of its log', async () => {
    // the CUDA provider is not installed here: the miner exits while loading its model
    const { file, out } = write('dies', {
      miners: [{ name: 'ok', count: 1, strategy: 'honest', models: ['digits'] }, { name: 'gpu', count: 1, strategy: 'honest', models: ['digits'], ep: ['cuda'] }],
      clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 } }],
    });
    const r = await runCli(['testnet', '--scenario', file, '--out', out, '--wait-all'], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_STARTUP: gpu-0 exited (code 1');
    expect(r.stderr).toContain(`last lines of ${join(out, 'gpu-0.log')}`);
    expect(r.stderr).toMatch(/\| .*execution provider "cuda" is unavailable/);
    expect(r.stderr).not.toMatch(/^ready/m);
  }, 120_000);

  it('a model no registered miner serves is refused instead of "ready"', async () => {
    const { file, out } = write('unserved', {
      miners: [{ count: 1, strategy: 'honest', models: ['digits'] }],
      clients: [{ count: 1, ratePerSec: 1, models: { digits: 1, charlm: 1 } }],
    });
    const r = await runCli(['testnet', '--scenario', file, '--out', out], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_STARTUP: no registered miner serves "charlm" (miners for it: none planned)');
    expect(r.stderr).not.toMatch(/^ready/m);
  }, 120_000);
});
