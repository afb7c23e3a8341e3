import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './browser.js';
import type { RunReport } from '@infermarket/protocol';
import { renderReportHtml } from '@infermarket/sim';

// A real browser (Chromium from the `@sparticuz/chromium` npm package, see browser.ts) opens a report.html from disk, offline.

/** Screenshots land here (kept after the run, for people to look at). */
const OUT_DIR = join(tmpdir(), 'infermarket-test-out');

/** A seeded generator so the fixture is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const M = 1_000_000;

/**
 * A realistic 2-minute testnet run: three honest miners, a lazy one caught twice, a downgrading one
 * caught once, two validators; series sampled every second.
 */
function sampleReport(): RunReport {
  const rnd = mulberry32(42);
  const miners = [
    { id: 'm1', strategy: 'honest', region: 'eu' },
    { id: 'm2', strategy: 'honest', region: 'us' },
    { id: 'm3', strategy: 'honest', region: 'eu' },
    { id: 'm4', strategy: 'lazy', region: 'us' },
    { id: 'm5', strategy: 'downgrade', region: 'ap' },
  ].map((m, i) => ({ ...m, address: `im1${(i + 1).toString().repeat(4)}a9f3c0e${i}d2b7` }));
  const slashAt: Record<string, number[]> = { m4: [31_000, 77_000], m5: [58_000] };
  const tMs: number[] = [];
  const stake: Record<string, number[]> = {};
  const balance: Record<string, number[]> = {};
  for (const m of miners) {
    stake[m.address] = [];
    balance[m.address] = [];
  }
  const settled: number[] = [];
  const audits: number[] = [];
  const slashes: number[] = [];
  let nSettled = 0;
  let nAudits = 0;
  let nSlashes = 0;
  const stakeNow = new Map(miners.map((m) => [m.id, 500]));
  const balNow = new Map(miners.map((m) => [m.id, 1000]));
  for (let t = 0; t <= 120_000; t += 1000) {
    tMs.push(t);
    const jobs = Math.floor(3 + rnd() * 4);
    nSettled += jobs;
    nAudits += rnd() < 0.4 ? 1 : 0;
    for (const m of miners) {
      balNow.set(m.id, balNow.get(m.id)! + (jobs / miners.length) * 0.05 * (0.6 + rnd()));
      if (slashAt[m.id]?.includes(t)) {
        stakeNow.set(m.id, stakeNow.get(m.id)! * 0.7);
        nSlashes++;
      }
      stake[m.address]!.push(Math.round(stakeNow.get(m.id)! * 100) / 100);
      balance[m.address]!.push(Math.round(balNow.get(m.id)! * 100) / 100);
    }
    settled.push(nSettled);
    audits.push(nAudits);
    slashes.push(nSlashes);
  }
  const latencyMs: number[] = [];
  const ttftMs: number[] = [];
  for (let i = 0; i < 600; i++) {
    latencyMs.push(Math.round(40 + Math.exp(3.5 + rnd() * 1.6) + (rnd() < 0.05 ? 400 * rnd() : 0)));
    if (i % 3 === 0) ttftMs.push(Math.round(15 + Math.exp(2.5 + rnd() * 1.4)));
  }
  const micro = (musd: number): string => BigInt(Math.round(musd * M)).toString();
  const slashList = [
    { tMs: 31_000, node: miners[3]!.address, role: 'miner' as const, amountMicro: micro(150), jobId: 'job-0113', reason: 'audit mismatch: argmax differs (lazy output), referees 3/3' },
    { tMs: 58_000, node: miners[4]!.address, role: 'miner' as const, amountMicro: micro(150), jobId: 'job-0229', reason: 'audit mismatch: max-abs-diff 0.41 > tolerance 0.05 (int4 instead of int8)' },
    { tMs: 77_000, node: miners[3]!.address, role: 'miner' as const, amountMicro: micro(105), jobId: 'job-0307', reason: 'audit mismatch: argmax differs <script>alert(1)</script>' },
  ];
  return {
    kind: 'testnet',
    version: 1,
    seed: 20261122,
    scenario: 'lazy-miner',
    params: { auditRate: 0.1, slashFractionBps: 3000, challengeWindowMs: 5000, bidWindowMs: 200, unbondingMs: 60000, matchingPolicy: 'lowest-price', minMinerStakeMicro: '100000000' },
    durationMs: 120_000,
    jobs: { submitted: nSettled + 14, settled: nSettled, failed: 6, reassigned: 9, audited: nAudits, disputed: 3, slashed: 3 },
    latencyMs: { p50: 98, p95: 201, p99: 380 },
    ttftMs: { p50: 31, p95: 62 },
    successRate: nSettled / (nSettled + 6),
    costPerThousandMicro: micro(52.5),
    costToken: 'mUSD',
    miners: miners.map((m) => {
      const slashed = slashList.filter((s) => s.node === m.address).reduce((a, s) => a + Number(s.amountMicro), 0);
      return {
        id: m.id, address: m.address, strategy: m.strategy, region: m.region,
        jobs: Math.round(nSettled / 5) + 2, settled: Math.round(nSettled / 5), missed: m.strategy === 'honest' ? 0 : 1,
        earnedMicro: micro(balNow.get(m.id)! - 1000), slashedMicro: String(slashed),
        stakeStartMicro: micro(500), stakeEndMicro: String(500 * M - slashed),
      };
    }),
    validators: [
      { id: 'v1', address: 'im1vvvv11119ab3', strategy: 'honest', audits: Math.ceil(nAudits / 2), earnedMicro: micro(4.2), slashedMicro: '0' },
      { id: 'v2', address: 'im1vvvv22229ab3', strategy: 'honest', audits: Math.floor(nAudits / 2), earnedMicro: micro(3.9), slashedMicro: '0' },
    ],
    ledger: {
      mintedMicro: micro(11000), balancesMicro: micro(8410.5), escrowMicro: micro(12), stakesMicro: micro(2095),
      unbondingMicro: micro(0), feesMicro: micro(280), burnedMicro: micro(202.5), conserved: true,
    },
    invariants: { checks: 4210, violations: [] },
    slashes: slashList,
    series: { tMs, stakeMusd: stake, balanceMusd: balance, settled, audits, slashes },
    samples: { latencyMs, ttftMs },
    regions: { eu: 300, us: 260, ap: 120 },
    environment: { node: 'v20.19.0', platform: 'linux-x64', cpus: 2, onnxruntime: '1.30.0', infermarket: '0.1.0' },
  };
}

describe('report.html in a real browser', () => {
  let dir: string;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'infermarket-report-'));
    mkdirSync(OUT_DIR, { recursive: true });
    context = await launchBrowser({ profileDir: join(dir, 'profile'), offline: true });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders every plot and table from file://, offline', async () => {
    const report = sampleReport();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReportHtml(report));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-plots-ready]');
    expect(errors).toEqual([]);
    // Self-contained: the only thing loaded is the file itself.
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);

    for (const id of ['plot-stake', 'plot-balance', 'plot-latency', 'plot-ttft', 'plot-cdf', 'plot-cumulative']) {
      const size = await page.$eval(`[data-testid="${id}"] canvas`, (c) => ({ w: (c as HTMLCanvasElement).width, h: (c as HTMLCanvasElement).height }));
      expect(size.w, id).toBeGreaterThan(100);
      expect(size.h, id).toBeGreaterThan(100);
      // The canvas has ink on it: not a blank plot.
      const inked = await page.$eval(`[data-testid="${id}"] canvas`, (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
      expect(inked, id).toBeGreaterThan(500);
    }
    // One legend entry per miner on the stake plot, labelled with id and strategy.
    const legend = await page.$$eval('[data-testid="plot-stake"] .u-legend .u-label', (els) => els.map((e) => e.textContent));
    expect(legend).toEqual(expect.arrayContaining(['m4 (lazy)', 'm5 (downgrade)']));

    expect(await page.$$eval('[data-testid="miners-table"] tbody tr', (r) => r.length)).toBe(5);
    expect(await page.$$eval('[data-testid="validators-table"] tbody tr', (r) => r.length)).toBe(2);
    const slashRows = await page.$$eval('[data-testid="slash-table"] tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    expect(slashRows).toHaveLength(3);
    expect(slashRows[1]).toContain('int4 instead of int8');
    // A reason is text, never markup.
    expect(slashRows[2]).toContain('<script>alert(1)</script>');
    expect(await page.textContent('[data-testid="conservation"]')).toContain('holds');
    expect(await page.textContent('[data-testid="report-seed"]')).toBe('20261122');
    expect(await page.textContent('[data-testid="params-table"]')).toContain('slashFractionBps');

    await page.screenshot({ path: join(OUT_DIR, 'report.png'), fullPage: true });
    await page.close();
  });

  it('renders an empty run without errors (no jobs, no samples)', async () => {
    const empty: RunReport = {
      ...sampleReport(),
      jobs: { submitted: 0, settled: 0, failed: 0, reassigned: 0, audited: 0, disputed: 0, slashed: 0 },
      slashes: [],
      miners: [],
      validators: [],
      series: { tMs: [], stakeMusd: {}, balanceMusd: {}, settled: [], audits: [], slashes: [] },
      samples: { latencyMs: [], ttftMs: [] },
    };
    const file = join(dir, 'empty.html');
    writeFileSync(file, renderReportHtml(empty));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-plots-ready]');
    expect(errors).toEqual([]);
    expect(await page.textContent('[data-testid="slash-table"]')).toContain('No slashes');
    expect(await page.$$('[data-testid="plot-stake"] .none')).toHaveLength(1);
    await page.close();
  });
});
