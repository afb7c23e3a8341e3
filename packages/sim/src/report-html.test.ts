import { describe, expect, it } from 'vitest';
import type { RunReport } from '@infermarket/protocol';
import { renderReportHtml } from './report-html.js';

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    kind: 'sim',
    version: 1,
    seed: 1234,
    scenario: 'lazy-miner',
    params: { auditRate: 0.1, slashFractionBps: 5000 },
    durationMs: 90_000,
    jobs: { submitted: 10, settled: 8, failed: 1, reassigned: 1, audited: 2, disputed: 1, slashed: 1 },
    latencyMs: { p50: 90, p95: 180, p99: 220 },
    ttftMs: { p50: 30, p95: 60 },
    successRate: 8 / 9,
    costPerThousandMicro: '2040000000',
    costToken: 'mUSD',
    miners: [
      { id: 'm1', address: 'im1aaaa', strategy: 'honest', region: 'eu', jobs: 6, settled: 6, missed: 0, earnedMicro: '12000000', slashedMicro: '0', stakeStartMicro: '500000000', stakeEndMicro: '500000000' },
      { id: 'm2', address: 'im1bbbb', strategy: 'lazy', region: 'us', jobs: 3, settled: 2, missed: 0, earnedMicro: '4000000', slashedMicro: '250000000', stakeStartMicro: '500000000', stakeEndMicro: '250000000' },
    ],
    validators: [{ id: 'v1', address: 'im1vvvv', strategy: 'honest', audits: 2, earnedMicro: '62500000', slashedMicro: '0' }],
    ledger: {
      mintedMicro: '11000000000', balancesMicro: '8410500000', escrowMicro: '12000000', stakesMicro: '2095000000',
      unbondingMicro: '0', feesMicro: '280000000', burnedMicro: '202500000', conserved: true,
    },
    invariants: { checks: 120, violations: [] },
    slashes: [{ tMs: 31_000, node: 'im1bbbb', role: 'miner', amountMicro: '250000000', jobId: 'job-7', reason: 'mismatch </script><b>x</b>' }],
    series: { tMs: [0, 1000], stakeMusd: { im1aaaa: [500, 500], im1bbbb: [500, 250] }, balanceMusd: { im1aaaa: [1000, 1012], im1bbbb: [1000, 1004] }, settled: [0, 8], audits: [0, 2], slashes: [0, 1] },
    samples: { latencyMs: [80, 90, 180], ttftMs: [30, 60] },
    environment: { node: 'v20.19.0', platform: 'linux-x64', cpus: 2, infermarket: '0.1.0' },
    ...overrides,
  };
}

function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded data');
  return JSON.parse(m[1]!);
}

describe('renderReportHtml', () => {
  it('inlines uPlot and loads nothing from elsewhere', () => {
    const html = renderReportHtml(report());
    expect(html).toContain('uPlot');
    expect(html).toContain('.u-legend');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    // the only URL is uPlot's licence banner
    expect(html.match(/https?:\/\/[^\s"')]+/g) ?? []).toEqual(['https://github.com/leeoniya/uPlot']);
  });

  it('embeds the report as JSON that parses back to the same report', () => {
    const r = report();
    expect(embedded(renderReportHtml(r))).toEqual(r);
  });

  it('escapes reasons so they cannot end the script or inject markup', () => {
    const html = renderReportHtml(report());
    // one closing tag per script element, none from the data
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('mismatch &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;');
  });

  it('shows exact amounts, the seed, the parameters and the conservation check', () => {
    const html = renderReportHtml(report());
    expect(html).toContain('8,410.5'); // balances, exact
    expect(html).toContain('−250'); // m2's stake change
    expect(html).toContain('2,040'); // cost per 1,000 jobs
    expect(html).toContain('data-testid="report-seed">1234<');
    expect(html).toContain('slashFractionBps');
    expect(html).toContain('holds');
    expect(html).toContain('m2 <span class="tag lazy">lazy</span>');
  });

  it('shows extra sections (sim metrics, testnet processes) generically', () => {
    const r = { ...report(), sim: { cheatRate: 0.0125, calibration: { msPerJob: { 'digits:int8': 0.03 } }, rejected: {} }, testnet: { faults: [{ atMs: 2000, action: 'kill', target: 'honest-1' }] } };
    const html = renderReportHtml(r as RunReport);
    expect(html).toContain('data-testid="extra-sim"');
    expect(html).toMatch(/<code>cheatRate<\/code><\/td><td class="num">0\.0125</);
    expect(html).toContain('<code>calibration.msPerJob.digits:int8</code>');
    expect(html).toContain('data-testid="extra-testnet-faults"');
    expect(html).toMatch(/<td>2000<\/td><td>kill<\/td><td>honest-1<\/td>/);
  });

  it('flags a broken ledger and lists invariant violations', () => {
    const html = renderReportHtml(report({
      ledger: { ...report().ledger, conserved: false },
      invariants: { checks: 5, violations: ['conservation: minted 1 ≠ held 2'] },
    }));
    expect(html).toContain('VIOLATED');
    expect(html).toContain('conservation: minted 1 ≠ held 2');
    expect(html).toContain('✘ BROKEN');
  });
});
