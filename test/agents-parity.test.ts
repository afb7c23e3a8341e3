import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario, type RunReport } from '@infermarket/protocol';
import { runSimulation, type SimReport } from '@infermarket/sim';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

// One scenario, two drivers: scenarios/adversarial.json as a short live testnet (real processes, ONNX
// models, sockets) and in the simulator. Both run the agents' strategy code (@infermarket/agents), so
// per strategy the same things must happen: equal in kind, and within stated bounds where counts are random.
//
// The copy differs from the shipped file in three ways, all stated:
// - a `lazy` and a `flaky` miner are added (the shipped file has neither, and the comparison must cover them);
// - every group states its stake (500 mUSD): the testnet's and the simulator's default stakes differ
//   until the scenario resolver (issue #11, item 3) gives one default to both;
// - `sim.adaptive.cheatLevels` is set to [0, 0.5, 1] (not the default), to show that the live adaptive
//   miner takes the scenario's learner settings as the simulated one does.
// The run keeps the shipped 25 s: shorter runs give the adaptive and replay miners too few jobs to be
// caught reliably (checked over simulator seeds 7-11: at 25 s every assertion below holds for each).
const STAKE = '500000000';
const shipped = JSON.parse(readFileSync(new URL('../scenarios/adversarial.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  miners: Record<string, unknown>[];
  validators: Record<string, unknown>[];
};
const SCENARIO = {
  ...shipped,
  name: 'agents-parity',
  miners: [
    ...shipped.miners,
    { name: 'lazy', count: 1, strategy: 'lazy', pricing: { priceMicro: '9000', spreadBps: 2000 } },
    { name: 'flaky', count: 1, strategy: 'flaky', pricing: { priceMicro: '9000', spreadBps: 2000 } },
  ].map((g) => ({ ...g, stakeMicro: STAKE })),
  validators: shipped.validators.map((g) => ({ ...g, stakeMicro: STAKE })),
  sim: { adaptive: { cheatLevels: [0, 0.5, 1] } },
};
const LEVELS = [0, 0.5, 1];

function logLines(dir: string, name: string): Record<string, unknown>[] {
  return readFileSync(join(dir, `${name}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const miner = (r: RunReport, id: string): RunReport['miners'][number] => {
  const m = r.miners.find((x) => x.id === id);
  if (!m) throw new Error(`no miner ${id} in the ${r.kind} report`);
  return m;
};
const slashesOf = (r: RunReport, id: string): bigint[] => r.slashes.filter((s) => s.node === id).map((s) => BigInt(s.amountMicro));

describe('agents parity: adversarial.json live and simulated', () => {
  let live: Awaited<ReturnType<typeof runScenario>>;
  let sim: SimReport;
  beforeAll(async () => {
    sim = runSimulation(parseScenario(SCENARIO), { checkInvariants: true });
    live = await runScenario(SCENARIO, 'agents-parity');
  }, 150_000);
  afterAll(() => removeRun(live?.dir));

  it('both runs keep the books', () => {
    for (const r of [live.report, sim]) {
      expect(r.ledger.conserved).toBe(true);
      expect(r.invariants.violations).toEqual([]);
      expect(r.jobs.settled, describeRun(live)).toBeGreaterThan(10);
    }
  });

  it('lazy, downgrade and replay miners are caught and slashed, by the same first amount (30% of the stated stake)', () => {
    const first = (BigInt(STAKE) * BigInt(live.report.params.slashFractionBps as number)) / 10_000n;
    expect(sim.params.slashFractionBps).toBe(live.report.params.slashFractionBps);
    for (const id of ['lazy-0', 'downgrade-0', 'replay-0']) {
      for (const r of [live.report, sim]) {
        const s = slashesOf(r, id);
        expect(s.length, `${r.kind} ${id}: ${describeRun(live)}`).toBeGreaterThan(0);
        // the first slash takes the same share of the same stake in both; later ones depend on restaking
        expect(s[0], `${r.kind} ${id}`).toBe(first);
        expect(r.slashes.filter((x) => x.node === id).every((x) => x.reason === 'wrong result')).toBe(true);
      }
    }
  });

  it('honest, slow and flaky miners are never slashed; slow and flaky miss deadlines and their jobs are reassigned', () => {
    for (const r of [live.report, sim]) {
      for (const id of ['honest-0', 'honest-1', 'slow-0', 'flaky-0']) expect(miner(r, id).slashedMicro, `${r.kind} ${id}`).toBe('0');
      // slow adds 2 s to a 1.5 s deadline: it misses every job it wins; flaky drops ~30% of its jobs
      expect(miner(r, 'slow-0').missed, `${r.kind} slow`).toBeGreaterThan(0);
      expect(miner(r, 'slow-0').settled, `${r.kind} slow`).toBe(0);
      expect(miner(r, 'flaky-0').missed, `${r.kind} flaky: ${describeRun(live)}`).toBeGreaterThan(0);
      expect(miner(r, 'flaky-0').settled, `${r.kind} flaky`).toBeGreaterThan(0);
      expect(r.jobs.reassigned, r.kind).toBeGreaterThan(0);
    }
  });

  it('validators behave the same: the lazy one is slashed for false accusations, the colluding one never reports its partner and is never slashed for it', () => {
    for (const r of [live.report, sim]) {
      const lazyval = r.slashes.filter((s) => s.node === 'lazyval-0');
      expect(lazyval.length, `${r.kind}: ${describeRun(live)}`).toBeGreaterThan(0);
      expect(lazyval.every((s) => s.reason === 'false accusation')).toBe(true);
      for (const id of ['validator-0', 'validator-1']) expect(r.validators.find((v) => v.id === id)!.slashedMicro, `${r.kind} ${id}`).toBe('0');
      // the colluder is never slashed for a false accusation
      expect(r.slashes.filter((x) => x.node === 'colluder-0'), r.kind).toEqual([]);
    }
    // live: the colluder stayed silent on its partner's tasks and reported on the others — the agents'
    // planTask, which the simulator's colluder also calls (its silence is tested in sim's own tests)
    const colluder = logLines(live.dir, 'colluder-0');
    const replayJobs = new Set(logLines(live.dir, 'replay-0').filter((l) => l.event === 'job.committed').map((l) => l.jobId));
    for (const l of colluder.filter((x) => x.event === 'audit.sent')) expect(replayJobs.has(l.jobId), `colluder reported partner job ${String(l.jobId)}`).toBe(false);
    // (what its silence costs it, the missed-audit penalty, is tested where it can be forced: the simulator's
    // sim-agents.test.ts and the live test/verification-live.test.ts; in one short run here it is chance)
    for (const l of colluder.filter((x) => x.event === 'audit.silent')) expect(replayJobs.has(l.jobId)).toBe(true);
  });

  it('the adaptive miner moves the same way: caught cheating, it ends preferring a lower cheat level than always', () => {
    // live: rebuild the learner's estimates (sample means, decay 0) from what it logged it learned
    const learned = logLines(live.dir, 'adaptive-0').filter((l) => l.event === 'learned');
    expect(learned.some((l) => l.outcome === 'slashed' && (l.level as number) > 0), describeRun(live)).toBe(true);
    const sums = new Map<number, { n: number; sum: number }>();
    for (const l of learned) {
      const e = sums.get(l.level as number) ?? { n: 0, sum: 0 };
      e.n++;
      e.sum += l.reward as number;
      sums.set(l.level as number, e);
    }
    // the live learner used the scenario's levels, as the simulator's does
    const ready = logLines(live.dir, 'adaptive-0').find((l) => l.event === 'ready' && 'learner' in l);
    expect(ready?.cheatLevels).toEqual(LEVELS);
    for (const l of learned) expect(LEVELS).toContain(l.level);
    expect(LEVELS).toContain(sim.sim.adaptiveLearnedLevel);
    const levels = LEVELS;
    const est = (lv: number): number => (sums.get(lv) ? sums.get(lv)!.sum / sums.get(lv)!.n : 0);
    const liveBest = levels.reduce((b, lv) => (est(lv) > est(b) ? lv : b), 0);
    // every level it was slashed at is, on balance, a loss
    for (const l of learned.filter((x) => x.outcome === 'slashed')) expect(est(l.level as number)).toBeLessThan(0);
    for (const r of [live.report, sim]) expect(slashesOf(r, 'adaptive-0').length, r.kind).toBeGreaterThan(0);
    expect(liveBest).toBeLessThan(1);
    expect(sim.sim.adaptiveLearnedLevel!).toBeLessThan(1);
  });
});
