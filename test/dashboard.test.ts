import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './browser.js';
import {
  apply,
  createState,
  hashHex,
  keyPairFromSeed,
  ledgerTotals,
  checkInvariants,
  percentile,
  seedFromLabel,
  type Effect,
  type FeedEvent,
  type MarketEvent,
  type MarketState,
  type MarketStatsView,
  type NodeView,
  type RunReport,
  type Timer,
} from '@infermarket/protocol';
// Imported from the dashboard's own entry (the market's public entry is being written concurrently).
import { attachDashboardSocket, nodeView, registerDashboard, type DashboardSource } from '@infermarket/market';

// The dashboard in a real browser (Chromium from npm, see browser.ts):
// 1. on a real testnet (`infermarket testnet`: market, miners, validators and a load generator as OS
//    processes), with a lazy miner that gets caught; afterwards the run's report.html opens offline;
// 2. on a real fastify server fed by a protocol state this test drives like a small market, where a lazy
//    miner joins while the page is open, so the slash arrives live.

const OUT_DIR = join(tmpdir(), 'infermarket-test-out');
const MUSD = 1_000_000n;
/** Virtual ms per real ms: the market's clock runs faster so a few real seconds show a lot. */
const SPEED = 4;

type Driven = DistributiveOmit<MarketEvent, 'atMs' | 'nonce' | 'expiresAtMs'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface MiniMarket {
  source: DashboardSource;
  state: MarketState;
  /** Registers and bonds the lazy miner now (so the page sees it join, undercut and get caught). */
  addLazyMiner(): void;
  stop(): void;
}

/** A small market driven in real time over the protocol rules, exposing a `DashboardSource`. */
function startMiniMarket(seed: number): MiniMarket {
  const state = createState({ params: { matchingMode: 'auction', auditRate: 0.35, disputeQuorum: 0, jailDurationMs: 20_000, challengeWindowMs: 800 }, models: ['digits'] });
  const startedAtMs = Date.now();
  const now = (): number => (Date.now() - startedAtMs) * SPEED;
  let nonce = 0;
  let rng = seed >>> 0;
  const rand = (): number => {
    rng = (rng * 1664525 + 1013904223) >>> 0;
    return rng / 4294967296;
  };
  const timers: { atMs: number; seq: number; timer: Timer }[] = [];
  const actions: { atMs: number; run: () => void }[] = [];
  let seq = 0;
  const listeners = new Set<(events: FeedEvent[]) => void>();
  const feed: FeedEvent[] = [];
  const latency: number[] = [];
  const ttft: number[] = [];
  const settledAt: number[] = [];
  const series: MarketStatsView['series'] = { tMs: [], stakeMusd: {}, balanceMusd: {}, settled: [], audits: [], slashes: [] };
  const online = new Set<string>();
  let clientPaid = 0n;

  const address = (label: string): string => keyPairFromSeed(seedFromLabel(label)).address;
  const honest = ['miner-a', 'miner-b', 'miner-c'].map(address);
  const lazy = address('miner-lazy');
  const validators = ['val-1', 'val-2'].map(address);
  const client = address('client-1');
  const correct = new Map<string, string>();
  const committedHash = new Map<string, string>();

  const publish = (events: FeedEvent[]): void => {
    if (events.length === 0) return;
    feed.push(...events);
    if (feed.length > 400) {
      const keep = feed.filter((e, i) => e.kind === 'slashed' || i >= feed.length - 200);
      feed.splice(0, feed.length, ...keep);
    }
    for (const fn of listeners) fn(events);
  };

  const onEffects = (fx: Effect[], atMs: number): void => {
    const events: FeedEvent[] = [];
    for (const e of fx) {
      switch (e.type) {
        case 'timer.set':
          timers.push({ atMs: e.atMs, seq: seq++, timer: e.timer });
          break;
        case 'job.opened':
          // Every eligible miner bids; the lazy one undercuts everyone (it does no work).
          for (const m of e.eligible) {
            const price = m === lazy ? 1n * MUSD : 2n * MUSD + BigInt(Math.floor(rand() * 1_000_000));
            later(atMs + 1 + Math.floor(rand() * 10), () => send({ type: 'job.bid', by: m, jobId: e.jobId, priceMicro: price }));
          }
          break;
        case 'job.assigned': {
          events.push({ tMs: atMs, kind: 'assigned', jobId: e.jobId, node: e.miner, role: 'miner' });
          const work = e.miner === lazy ? 5 : 60 + Math.floor(rand() * 120);
          const out = e.miner === lazy ? hashHex(`junk-${e.jobId}-${rand()}`) : correct.get(e.jobId)!;
          later(atMs + work, () => {
            committedHash.set(e.jobId, out);
            send({ type: 'job.result', by: e.miner, jobId: e.jobId, outputHash: out });
          });
          break;
        }
        case 'job.committed': {
          const job = state.jobs.get(e.jobId);
          if (job) ttft.push(atMs - job.submittedAtMs);
          break;
        }
        case 'audit.requested': {
          events.push({ tMs: atMs, kind: 'audited', jobId: e.jobId, node: e.validator, role: 'validator' });
          const expected = correct.get(e.jobId)!;
          later(atMs + 40 + Math.floor(rand() * 60), () =>
            send({ type: 'audit.report', by: e.validator, jobId: e.jobId, outputHash: expected, match: committedHash.get(e.jobId) === expected }),
          );
          break;
        }
        case 'dispute.opened':
          events.push({ tMs: atMs, kind: 'disputed', jobId: e.jobId, node: e.accuser, role: 'validator' });
          break;
        case 'job.missed':
          events.push({ tMs: atMs, kind: 'missed', jobId: e.jobId, node: e.miner, role: 'miner', amountMicro: e.penaltyMicro.toString() });
          break;
        case 'job.settled': {
          const job = state.jobs.get(e.jobId);
          if (job) latency.push(atMs - job.submittedAtMs);
          settledAt.push(atMs);
          clientPaid += e.priceMicro;
          events.push({ tMs: atMs, kind: 'settled', jobId: e.jobId, node: e.miner, role: 'miner', amountMicro: e.priceMicro.toString() });
          break;
        }
        case 'job.failed':
          events.push({ tMs: atMs, kind: 'failed', jobId: e.jobId, reason: e.reason });
          break;
        case 'node.slashed':
          events.push({ tMs: atMs, kind: 'slashed', jobId: e.jobId, node: e.address, role: e.role, amountMicro: e.amountMicro.toString(), reason: e.reason });
          break;
        default:
          break;
      }
    }
    publish(events);
  };

  function send(ev: Driven, atMs = now()): void {
    const full = { ...ev, atMs, nonce: `${++nonce}`, expiresAtMs: atMs + 10_000 } as MarketEvent;
    try {
      onEffects(apply(state, full), atMs);
    } catch {
      // refused by the rules (e.g. a jailed miner bidding): nothing changed, as in the market
    }
  }
  function later(atMs: number, run: () => void): void {
    actions.push({ atMs, run });
  }

  // Genesis.
  send({ type: 'epoch.begin', seed: hashHex(`epoch-${seed}-0`) }, 0);
  const join = (a: string, atMs: number): void => {
    const role = validators.includes(a) ? 'validator' : 'miner';
    send({ type: 'account.faucet', address: a, amountMicro: 1_000n * MUSD }, atMs);
    send({ type: 'node.register', by: a, role, models: ['digits'], region: a === lazy ? 'us' : 'eu' }, atMs);
    send({ type: 'stake.bond', by: a, amountMicro: 500n * MUSD }, atMs);
    online.add(a);
    publish([{ tMs: atMs, kind: 'node-online', node: a, role }]);
  };
  for (const a of [...honest, ...validators]) join(a, 0);
  send({ type: 'account.faucet', address: client, amountMicro: 5_000n * MUSD }, 0);

  let jobs = 0;
  let epoch = 0;
  let lastSample = -Infinity;
  const tick = setInterval(() => {
    const t = now();
    if (t >= (epoch + 1) * state.params.epochMs) send({ type: 'epoch.begin', seed: hashHex(`epoch-${seed}-${++epoch}`) }, t);
    // ~25 jobs per virtual second
    for (let i = 0; i < 3; i++) {
      const jobId = `job-${String(++jobs).padStart(4, '0')}`;
      correct.set(jobId, hashHex(`out-${jobId}`));
      send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: hashHex(`in-${jobId}`), maxPriceMicro: 10n * MUSD }, t);
    }
    // Fire due timers and agent actions in time order.
    for (;;) {
      timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      actions.sort((a, b) => a.atMs - b.atMs);
      const nt = timers[0];
      const na = actions[0];
      if ((!nt || nt.atMs > t) && (!na || na.atMs > t)) break;
      if (nt && nt.atMs <= t && (!na || nt.atMs <= na.atMs)) {
        timers.shift();
        send({ type: 'timer.fire', timer: nt.timer }, Math.max(state.nowMs, nt.atMs));
      } else if (na) {
        actions.shift();
        const prev = state.nowMs;
        if (na.atMs < prev) na.atMs = prev;
        na.run();
      }
    }
    if (t - lastSample >= 500) {
      lastSample = t;
      series.tMs.push(t);
      for (const n of state.nodes.values()) {
        if (n.role !== 'miner') continue;
        // A miner that joins later is padded with nulls so every series lines up with tMs.
        const pad = (): (number | null)[] => new Array<number | null>(series.tMs.length - 1).fill(null);
        (series.stakeMusd[n.address] ??= pad() as number[]).push(Number(n.stakeMicro) / 1e6);
        (series.balanceMusd[n.address] ??= pad() as number[]).push(Number(state.ledger.get(`balance:${n.address}`) ?? 0n) / 1e6);
      }
      series.settled.push(state.stats.settled);
      series.audits.push(state.stats.audited);
      series.slashes.push(state.stats.minerSlashes + state.stats.validatorSlashes);
    }
  }, 40);

  const source: DashboardSource = {
    snapshot(): MarketStatsView {
      const t = now();
      const totals = ledgerTotals(state);
      const nodes: NodeView[] = [...state.nodes.values()].map((n) =>
        nodeView(state, n, t, { variant: n.role === 'miner' ? (n.address === lazy ? 'int4' : 'int8') : null, online: online.has(n.address) }),
      );
      const finished = state.stats.settled + state.stats.failed;
      return {
        nowMs: startedAtMs + t,
        startedAtMs,
        seed,
        params: Object.fromEntries(Object.entries(state.params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : (v as string | number)])),
        stats: { ...state.stats },
        throughputPerSec: settledAt.filter((s) => s > t - 10_000).length / Math.min(10, Math.max(1, t / 1000)),
        successRate: finished ? state.stats.settled / finished : 0,
        latencyMs: { p50: percentile(latency, 50), p95: percentile(latency, 95) },
        ttftMs: { p50: percentile(ttft, 50), p95: percentile(ttft, 95) },
        ledger: {
          mintedMicro: totals.mintedMicro.toString(),
          balancesMicro: totals.balancesMicro.toString(),
          escrowMicro: totals.escrowMicro.toString(),
          stakesMicro: totals.stakesMicro.toString(),
          unbondingMicro: totals.unbondingMicro.toString(),
          feesMicro: totals.feesMicro.toString(),
          burnedMicro: totals.burnedMicro.toString(),
          conserved: totals.conserved,
        },
        invariantViolations: checkInvariants(state),
        nodes,
        // Slashes stay in the snapshot's feed so a page opened later still lists them.
        feed: [...feed.filter((e) => e.kind === 'slashed'), ...feed.slice(-50).filter((e) => e.kind !== 'slashed')],
        samples: { latencyMs: latency.slice(-500), ttftMs: ttft.slice(-500) },
        series,
        clientPaidMicro: clientPaid.toString(),
        regions: {},
      };
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  return { source, state, addLazyMiner: () => join(lazy, now()), stop: () => clearInterval(tick) };
}

async function startServer(source: DashboardSource, port = 0): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  registerDashboard(app, source);
  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/v1/dashboard') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => attachDashboardSocket(ws, source, { snapshotIntervalMs: 250 }));
  });
  // Upgraded sockets are not fastify's: end them before it waits for the HTTP server to close.
  app.addHook('preClose', async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  await app.listen({ host: '127.0.0.1', port });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}


const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'packages', 'cli', 'dist', 'main.js');

/** A small testnet: two honest miners, one lazy miner that undercuts them, two validators, one client. */
const SMALL_SCENARIO = {
  name: 'dashboard-e2e',
  description: 'Dashboard browser test: a lazy miner that undercuts honest ones and gets caught.',
  seed: 606,
  durationMs: 6000,
  params: { auditRate: 0.5, jobDeadlineMs: 1500, challengeWindowMs: 400, auditWindowMs: 3000, disputeWindowMs: 3000, disputeQuorum: 1, jailDurationMs: 60000, epochMs: 4000 },
  miners: [
    { name: 'honest', count: 2, strategy: 'honest', models: ['digits'], pricing: { priceMicro: '10000', spreadBps: 1000 }, concurrency: 2 },
    { name: 'lazy', count: 1, strategy: 'lazy', models: ['digits'], pricing: { priceMicro: '6000', spreadBps: 500 }, concurrency: 2 },
  ],
  validators: [{ name: 'validator', count: 2, strategy: 'honest', models: ['digits'] }],
  clients: [{ name: 'client', count: 1, ratePerSec: 5, models: { digits: 1 }, maxPriceMicro: '100000', concurrency: 4 }],
};

/** Start `infermarket testnet` and resolve with the dashboard URL it prints. */
function startTestnet(dir: string): { proc: ChildProcess; dashboard: Promise<string>; exited: Promise<number | null>; output: () => string } {
  const scenarioPath = join(dir, 'scenario.json');
  writeFileSync(scenarioPath, JSON.stringify(SMALL_SCENARIO, null, 2));
  const proc = spawn(process.execPath, [CLI, 'testnet', '--scenario', scenarioPath, '--out', join(dir, 'run')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const dashboard = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += String(d);
      const m = /^dashboard\s+(http\S+)/m.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', () => reject(new Error(`testnet exited before printing its dashboard:\n${out}`)));
  });
  dashboard.catch(() => {});
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, dashboard, exited, output: () => out };
}

describe('live dashboard on a real testnet', () => {
  let dir: string;
  let context: BrowserContext;
  let testnet: ReturnType<typeof startTestnet> | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'infermarket-dash-e2e-'));
    mkdirSync(OUT_DIR, { recursive: true });
    testnet = startTestnet(dir);
    context = await launchBrowser({ profileDir: join(dir, 'profile') });
  });

  afterAll(async () => {
    await context?.close();
    if (testnet && testnet.proc.exitCode === null) {
      testnet.proc.kill('SIGTERM');
      await testnet.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows jobs flowing and the lazy miner slashed, then the run\'s report.html renders offline', async () => {
    const url = await testnet!.dashboard;
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    expect(await page.textContent('[data-testid="seed"]')).toBe(String(SMALL_SCENARIO.seed));

    // Live values change as jobs flow.
    const settled = async (): Promise<number> => Number(await page.textContent('[data-testid="kpi-jobs"] .value'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="kpi-jobs"] .value')?.textContent) >= 1, null, { timeout: 40_000 });
    const first = await settled();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="kpi-jobs"] .value')?.textContent) >= n + 5, first, { timeout: 20_000 });
    expect(await settled()).toBeGreaterThanOrEqual(first + 5);
    expect(await page.textContent('[data-testid="kpi-throughput"] .value')).toMatch(/^\d+\.\d \/s$/);

    // The lazy miner is caught: a slash with its reason appears in the feed.
    await page.waitForSelector('[data-testid="slash-event"]', { timeout: 20_000 });
    const slashed = await page.getAttribute('[data-testid="slash-event"] code', 'title');
    expect((await page.textContent('[data-testid="slash-reason"]'))!.trim().length).toBeGreaterThan(3);
    // Its row: stake below the 500 it bonded, and jailed (or ejected).
    await page.waitForFunction((a) => {
      const row = document.querySelector(`[data-testid="miner-row"][data-address="${a}"]`);
      return row && Number(row.querySelector('[data-testid="miner-stake"]')?.textContent?.replace(/,/g, '')) < 500 && /jailed|ejected/.test(row.textContent ?? '');
    }, slashed);
    expect(await page.$$eval('[data-testid="miner-row"]', (r) => r.length)).toBe(3);
    expect(await page.$$eval('[data-testid="validator-row"]', (r) => r.length)).toBe(2);
    // Instance names and strategies beside the addresses (the testnet passes them to the market).
    expect(await page.textContent(`[data-testid="miner-row"][data-address="${slashed}"] [data-testid="node-name"]`)).toBe('lazy-0');
    expect(await page.textContent(`[data-testid="miner-row"][data-address="${slashed}"] [data-testid="node-strategy"]`)).toBe('lazy');
    expect(await page.textContent('[data-testid="slash-event"] [data-testid="node-name"]')).toBe('lazy-0');
    expect(await page.textContent('[data-testid="conservation"]')).toContain('✔');
    await page.waitForFunction(() => Number(document.body.dataset.snapshots ?? 0) >= 6);
    for (const id of ['chart-throughput', 'chart-stakes']) {
      const w = await page.$eval(`[data-testid="${id}"] canvas`, (c) => (c as HTMLCanvasElement).width);
      expect(w, id).toBeGreaterThan(200);
    }
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(OUT_DIR, 'dashboard-testnet.png'), fullPage: true });
    await page.close();

    // The run ends by itself and writes report.json + report.html; the slashed node was the lazy miner.
    expect(await testnet!.exited).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'run', 'report.json'), 'utf8')) as RunReport;
    expect(report.miners.find((m) => m.address === slashed)?.strategy).toBe('lazy');
    const html = join(dir, 'run', 'report.html');
    expect(existsSync(html)).toBe(true);
    const rp = await context.newPage();
    rp.on('pageerror', (e) => errors.push(String(e)));
    await rp.goto(pathToFileURL(html).href);
    await rp.waitForSelector('body[data-plots-ready]');
    for (const id of ['plot-stake', 'plot-latency', 'plot-cumulative']) {
      const w = await rp.$eval(`[data-testid="${id}"] canvas`, (c) => (c as HTMLCanvasElement).width);
      expect(w, id).toBeGreaterThan(200);
    }
    expect(await rp.textContent('[data-testid="slash-table"]')).toContain('lazy');
    expect(errors).toEqual([]);
    await rp.screenshot({ path: join(OUT_DIR, 'report-testnet.png'), fullPage: true });
    await rp.close();
  }, 150_000); // eight OS processes on two cores next to the rest of the suite: be patient, not flaky
});

describe('live dashboard on a driven protocol state', () => {
  let dir: string;
  let context: BrowserContext;
  let market: MiniMarket;
  let server: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'infermarket-dash-'));
    mkdirSync(OUT_DIR, { recursive: true });
    market = startMiniMarket(7);
    server = await startServer(market.source);
    context = await launchBrowser({ profileDir: join(dir, 'profile') });
  });

  afterAll(async () => {
    await context?.close();
    market?.stop();
    await server?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows live values changing as jobs flow and the lazy miner slashed in the feed', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    await page.waitForFunction(() => Number(document.body.dataset.snapshots ?? 0) >= 1);

    const settled = async (): Promise<number> => Number(await page.textContent('[data-testid="kpi-jobs"] .value'));
    const first = await settled();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="kpi-jobs"] .value')?.textContent) > n + 5, first);
    expect(await settled()).toBeGreaterThan(first);
    expect(await page.$$('[data-testid="slash-event"]')).toHaveLength(0);

    // The lazy miner joins now; it undercuts everyone, so it wins jobs and an audit catches it.
    market.addLazyMiner();

    const slash = await page.waitForSelector('[data-testid="slash-event"]');
    const lazy = keyPairFromSeed(seedFromLabel('miner-lazy')).address;
    expect(await slash.getAttribute('class')).toContain('slashed');
    expect((await page.textContent('[data-testid="slash-reason"]'))!.length).toBeGreaterThan(3);
    expect(await page.getAttribute('[data-testid="slash-event"] code', 'title')).toBe(lazy);
    // the feed event arrives at once; the slash counter with the next snapshot (every 500 ms)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="kpi-slashes"] .value')?.textContent) >= 1);
    expect(Number(await page.textContent('[data-testid="kpi-slashes"] .value'))).toBeGreaterThanOrEqual(1);
    // Its row shows the reduced stake (500 bonded) and a jailed (or, after maxSlashes, ejected) badge.
    await page.waitForFunction((a) => {
      const row = document.querySelector(`[data-testid="miner-row"][data-address="${a}"]`);
      return row && Number(row.querySelector('[data-testid="miner-stake"]')?.textContent?.replace(/,/g, '')) < 500 && /jailed|ejected/.test(row.textContent ?? '');
    }, lazy);

    // Both feeds say "newest first": check it on a page opened now, mid-run (snapshot feed first, then the
    // slash history, which is older).
    const late = await context.newPage();
    await late.goto(server.url + '/');
    await late.waitForSelector('[data-testid="slash-event"]');
    await late.waitForSelector('[data-testid="feed-event"]');
    for (const id of ['slash-event', 'feed-event']) {
      const ts = await late.$$eval(`[data-testid="${id}"]`, (els) => els.map((e) => Number((e as HTMLElement).dataset.t)));
      expect(ts.length, id).toBeGreaterThan(0);
      expect(ts, id).toEqual([...ts].sort((x, y) => y - x));
    }
    await late.close();
    expect(await page.$$eval('[data-testid="miner-row"]', (r) => r.length)).toBe(4);
    expect(await page.$$eval('[data-testid="validator-row"]', (r) => r.length)).toBe(2);
    expect(await page.textContent('[data-testid="conservation"]')).toContain('✔');
    expect(await page.textContent('[data-testid="seed"]')).toBe('7');
    expect(await page.textContent('[data-testid="params-table"]')).toContain('auditRate');

    // Charts drew onto real canvases.
    await page.waitForFunction(() => Number(document.body.dataset.snapshots ?? 0) >= 12);
    for (const id of ['chart-throughput', 'chart-stakes']) {
      const size = await page.$eval(`[data-testid="${id}"] canvas`, (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
      expect(size[0], id).toBeGreaterThan(200);
      expect(size[1], id).toBeGreaterThan(100);
    }
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(OUT_DIR, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('reconnects by itself when the market goes away and comes back', async () => {
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    const port = Number(new URL(server.url).port);
    await server.app.close();
    await page.waitForSelector('[data-testid="connection"][data-state="closed"]');
    const before = await page.evaluate(() => Number(document.body.dataset.snapshots));
    server = await startServer(market.source, port);
    await page.waitForSelector('[data-testid="connection"][data-state="live"]', { timeout: 15_000 });
    await page.waitForFunction((n) => Number(document.body.dataset.snapshots) > n, before);
    await page.close();
  });

  it('serves uPlot and the page assets, and 404s anything else', async () => {
    for (const path of ['/', '/dashboard/dashboard.js', '/dashboard/dashboard.css', '/dashboard/uplot.js', '/dashboard/uplot.css']) {
      const res = await server.app.inject({ method: 'GET', url: path });
      expect(res.statusCode, path).toBe(200);
      expect(res.body.length, path).toBeGreaterThan(100);
    }
    expect((await server.app.inject({ method: 'GET', url: '/dashboard/../package.json' })).statusCode).toBe(404);
  });
});
