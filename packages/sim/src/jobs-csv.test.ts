import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JOBS_CSV_COLUMNS, parseScenario } from '@infermarket/protocol';
import { recordSimJobs } from './jobs-csv.js';
import { runSimulation } from './run-simulation.js';

const scenario = parseScenario(JSON.parse(readFileSync(fileURLToPath(new URL('../../../scenarios/quickstart.json', import.meta.url)), 'utf8')));

describe('jobs.csv of a simulation', () => {
  it('has one row per submitted job whose outcomes add up to the report\'s counters', () => {
    const jobs = recordSimJobs();
    const report = runSimulation(scenario, { seed: 42, onApplied: jobs.onApplied });
    const [header, ...lines] = jobs.csv(report, scenario).trimEnd().split('\n');
    expect(header!.split(',')).toEqual([...JOBS_CSV_COLUMNS]);
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [JOBS_CSV_COLUMNS[i]!, v])));
    const count = (f: (r: Record<string, string>) => boolean) => rows.filter(f).length;
    expect(rows).toHaveLength(report.jobs.submitted);
    expect(new Set(rows.map((r) => r.job_id)).size).toBe(rows.length);
    expect(count((r) => r.status === 'settled')).toBe(report.jobs.settled);
    expect(count((r) => r.status === 'failed')).toBe(report.jobs.failed);
    expect(count((r) => r.audited === 'true')).toBe(report.jobs.audited);
    expect(count((r) => r.disputed === 'true')).toBe(report.jobs.disputed);
    // every slash names a job whose row says so
    for (const s of report.slashes) expect(rows.find((r) => r.job_id === s.jobId)?.slashed).toBe('true');
    // miners carry the report's instance names and strategies
    for (const r of rows.filter((x) => x.miner)) {
      const m = report.miners.find((x) => x.address === r.miner)!;
      expect([r.miner_name, r.miner_strategy]).toEqual([m.id, m.strategy]);
      expect(r.variant).toMatch(/^(fp32|fp16|int8|int4)$/);
    }
    for (const r of rows.filter((x) => x.status === 'settled')) {
      expect(Number(r.latency_ms)).toBeGreaterThan(0);
      expect(Number(r.finished_at_ms)).toBeGreaterThanOrEqual(Number(r.submitted_at_ms) + Number(r.latency_ms));
      expect(Number(r.price_micro)).toBeGreaterThan(0);
    }
  });
});
