import { describe, expect, it } from 'vitest';
import { benchTableMarkdown, machineInfo, median, repeat } from './harness.js';
import { protocolSuite } from './protocol-suite.js';
import { SUITES } from './suites.js';
import { parseScenario, percentile } from '@infermarket/protocol';
import { startupScenario } from './startup-suite.js';
import { closedLoop } from './closed-loop.js';

describe('bench harness', () => {
  it('runs the protocol suite with a tiny job count and renders its rows as a Markdown table', async () => {
    const rows = await protocolSuite({ jobs: 200, repeats: 2 });
    expect(rows.map((r) => r.name)).toEqual(['jobs settled per second through apply(), per-job auction', 'events per second through apply()']);
    for (const r of rows) {
      expect(r.suite).toBe('protocol');
      expect(r.value).toBeGreaterThan(0);
      expect(r.min).toBeLessThanOrEqual(r.value);
      expect(r.max).toBeGreaterThanOrEqual(r.value);
    }
    const table = benchTableMarkdown(rows, machineInfo());
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^Measured \d{4}-\d{2}-\d{2} on .+, \d+ cores/);
    expect(lines).toContain('| suite | measure | median | spread (min … max) | target | |');
    expect(lines.filter((l) => l.startsWith('| protocol |'))).toHaveLength(2);
  });

  it('marks a target met or missed from the median, not from the best repeat', async () => {
    let i = 0;
    const values = [100, 1, 2, 50];
    const row = await repeat({ suite: 's', name: 'n', unit: 'x', warmup: 1, repeats: 3, target: { op: '>=', value: 10 } }, () => values[i++]!);
    expect(row.value).toBe(2); // median of 1, 2, 50 (100 was the warm-up)
    expect(row.target).toEqual({ op: '>=', value: 10, met: false });
    expect(benchTableMarkdown([row], machineInfo())).toContain('| s | n | 2.00 x | 1.00 … 50.0 | >= 10.0 | **missed** |');
    expect(median([3, 1, 2, 4])).toBe(2.5);
  });

  it('registers every suite in the documented order', () => {
    expect(Object.keys(SUITES)).toEqual(['protocol', 'simulator', 'ledger', 'models', 'overhead', 'batch', 'verification', 'startup', 'privacy', 'disputes']);
  });

  it('closed loop keeps at most the given number of jobs in flight and counts failures', async () => {
    let inFlight = 0;
    let most = 0;
    const r = await closedLoop({
      jobs: 20,
      inFlight: 3,
      job: async (i) => {
        most = Math.max(most, ++inFlight);
        await new Promise((res) => setImmediate(res));
        inFlight--;
        return i % 5 === 0 ? null : { ms: i, tokens: 2 };
      },
    });
    expect(most).toBe(3);
    expect(r.failed).toBe(4);
    expect(r.latencies).toHaveLength(16);
    expect(r.tokens).toBe(32);
    expect(percentile(r.latencies, 50)).toBeGreaterThan(0);
  });

  it('the startup suite boots a scenario the testnet accepts', () => {
    const s = parseScenario(JSON.parse(JSON.stringify(startupScenario(45_678))));
    expect(s.testnet?.port).toBe(45_678);
    expect(s.miners[0]?.count).toBe(1);
  });
});
