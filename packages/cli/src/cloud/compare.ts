import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { bpsOf, InfermarketError, percentile, resolveParams, type Scenario } from '@infermarket/protocol';
import { loadModelSpecs } from '@infermarket/market';
import { CLI_MAIN, createManagedProcess, NODE_MAIN, type ManagedProcess } from '../testnet/processes.js';
import { planTestnet } from '../testnet/plan.js';
import { loadScenario, runTestnet } from '../testnet/run.js';
import { formatHybrid } from '../testnet/hybrid-report.js';
import type { HybridGroupReport } from '@infermarket/sim';
import { CLOUD_DEFAULTS } from './server.js';

/** One job as the load generator reports it (its `{"event":"job"}` line). */
export interface LoadJobLine {
  model: string;
  status: string;
  latencyMs: number;
  ttftMs: number | null;
  audited: boolean | null;
  priceMicro: string | null;
  paidMicro: string | null;
}

/** What one side (cloud or market) measured. Amounts in micro-mUSD as decimal strings; times in ms. */
export interface SideMetrics {
  /** Jobs the load attempted: accepted plus refused at submission. */
  attempted: number;
  /** Arrivals skipped by the client's concurrency cap (jobs in flight): slow service shows up here too. */
  throttled: number;
  submitted: number;
  settled: number;
  /** settled ÷ submitted (accepted jobs that settled). */
  successRate: number | null;
  /** settled ÷ attempted: refused submissions (server down) count against it. */
  availability: number | null;
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /** Time to first token of generation jobs (models of kind `charlm`). */
  ttftMs: { p50: number; p95: number } | null;
  paidMicro: string;
  /** Mean client cost of 1,000 settled jobs: total paid × 1000 ÷ settled. */
  costPer1000JobsMicro: string | null;
  /** Share of settled jobs re-executed by a validator. */
  auditRate: number | null;
  /** Validator fees paid (the price of verification) and their share of what the clients paid. */
  verificationMicro: string;
  verificationShare: number | null;
}

/** The comparison `infermarket compare` writes (compare.json). */
export interface Comparison {
  scenario: string;
  seeds: { scenario: number; loads: string[]; cloudKey: string };
  durationMs: number;
  cloud: SideMetrics & { priceMicro: string; variant: string; verification: 'none'; faults: string[] };
  market: SideMetrics & {
    variant: string;
    verification: string;
    faults: string[];
    outDir: string;
    /** Settled outputs that were wrong, found by re-executing every settled job after the run (null when not measured). */
    wrongSettled: { wrong: number; settled: number } | null;
  };
  /** market ÷ cloud (null when a side has no value). */
  ratios: { latencyP50: number | null; latencyP95: number | null; latencyP99: number | null; ttftP50: number | null; costPer1000Jobs: number | null };
  notes: string[];
  /** Hybrid client groups of the market side (the testnet report's `hybrid`): the share routed each way, the cost and the latency. */
  hybrid?: HybridGroupReport[];
}

/** Arrivals the load skipped because the client already had `concurrency` jobs in flight, from the `summary` lines of every `load-*.log`. */
export function readThrottled(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => /^load-.*\.log$/.test(x))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.startsWith('{"event":"summary"')) continue;
      try {
        n += Number((JSON.parse(line) as { throttled?: number }).throttled ?? 0);
      } catch {
        // a partial line
      }
    }
  }
  return n;
}

/** Read the `job` lines of every `load-*.log` of a run directory. */
export function readLoadJobs(dir: string): LoadJobLine[] {
  const out: LoadJobLine[] = [];
  for (const f of readdirSync(dir).filter((n) => /^load-.*\.log$/.test(n))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j.event === 'job') out.push(j as unknown as LoadJobLine);
      } catch {
        // a partial last line of a killed process
      }
    }
  }
  return out;
}

/**
 * The numbers of one side from its load's job lines. Verification cost is the validator fee of each
 * audited settled job (`validatorFeeBps` of its price, what the escrow pays the auditor); `protocolFeeBps`
 * is the market's fee, not verification.
 */
export function sideMetrics(jobs: readonly LoadJobLine[], opts: { generationModels: readonly string[]; validatorFeeBps: number; throttled?: number }): SideMetrics {
  const submitted = jobs.filter((j) => j.status !== 'rejected');
  const settled = jobs.filter((j) => j.status === 'settled');
  const lat = settled.map((j) => j.latencyMs);
  const ttft = settled.filter((j) => opts.generationModels.includes(j.model) && typeof j.ttftMs === 'number').map((j) => j.ttftMs!);
  let paid = 0n;
  let verification = 0n;
  for (const j of settled) {
    paid += BigInt(j.paidMicro ?? '0');
    if (j.audited === true) verification += bpsOf(BigInt(j.priceMicro ?? '0'), opts.validatorFeeBps);
  }
  const rate = (a: number, b: number): number | null => (b > 0 ? a / b : null);
  return {
    attempted: jobs.length,
    throttled: opts.throttled ?? 0,
    submitted: submitted.length,
    settled: settled.length,
    successRate: rate(settled.length, submitted.length),
    availability: rate(settled.length, jobs.length),
    latencyMs: lat.length ? { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99) } : null,
    ttftMs: ttft.length ? { p50: percentile(ttft, 50), p95: percentile(ttft, 95) } : null,
    paidMicro: paid.toString(),
    costPer1000JobsMicro: settled.length ? ((paid * 1000n) / BigInt(settled.length)).toString() : null,
    auditRate: rate(settled.filter((j) => j.audited === true).length, settled.length),
    verificationMicro: verification.toString(),
    verificationShare: paid > 0n ? Number(verification) / Number(paid) : null,
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a != null && b != null && b > 0 ? a / b : null);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

/** Options for `runCompare`. */
export interface CompareOptions {
  scenarioPath: string;
  durationMs?: number;
  outDir?: string;
  /** The cloud's fixed price per job (default `CLOUD_DEFAULTS.priceMicro`). */
  cloudPriceMicro?: bigint;
  print?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Run the scenario's client load (the same `infermarket load` processes, seeds and arrival times) once
 * against the centralized baseline (`infermarket cloud` as a child process) and once against the market
 * testnet (`runTestnet`), then measure both from the load's own job lines. Faults aimed at `market` are
 * applied to the cloud process too (the single server is its single point of failure); faults on miners
 * and validators have no counterpart there and are listed as such. Writes `compare.json` and `compare.html`.
 */
export async function runCompare(options: CompareOptions): Promise<{ comparison: Comparison; outDir: string }> {
  const print = options.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const scenario: Scenario = loadScenario(options.scenarioPath);
  const durationMs = options.durationMs ?? scenario.durationMs;
  const outDir = resolve(options.outDir ?? join('runs', `compare-${scenario.name}-${scenario.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const cloudDir = join(outDir, 'cloud');
  // the cloud side runs every group straight against the baseline: a hybrid group's routing is the market side's
  const plan = planTestnet({ ...scenario, clients: scenario.clients.map(({ hybrid: _h, ...c }) => c) }, { durationMs });
  if (plan.resolved.clients.some((c) => c.private)) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `${options.scenarioPath}: a client group sends private jobs; the cloud baseline runs inputs in the clear and refuses them, so the loads would differ. Compare a scenario without "private" clients`, { details: { field: 'clients.private' } });
  }
  const params = resolveParams(scenario.params ?? {});
  const generationModels = [...loadModelSpecs().specs.values()].filter((s) => s.kind === 'charlm').map((s) => s.id);
  const price = options.cloudPriceMicro ?? CLOUD_DEFAULTS.priceMicro;
  const cloudKey = `cloud-${scenario.seed}`;
  // fail loud: a client whose max price is below the cloud's would have every cloud job refused
  for (const c of plan.resolved.clients) {
    for (const [model, max] of Object.entries(c.maxPriceMicro)) {
      if (BigInt(max) < price) {
        throw new InfermarketError('ERR_VALIDATION', `"--cloud-price" ${price} is above client group "${c.group}"'s maxPriceMicro ${max} for ${model}: the cloud would refuse every job. Give a lower --cloud-price`, { details: { field: 'cloud-price' } });
      }
    }
  }

  // ---- the cloud ----
  mkdirSync(cloudDir, { recursive: true });
  const port = await freePort();
  const cloud = createManagedProcess({ name: 'cloud', args: ['cloud', '--port', String(port), '--price', price.toString(), '--key-seed', cloudKey, '--state', join(cloudDir, 'cloud-ledger.json'), '--json'], logDir: cloudDir, entry: CLI_MAIN });
  const loads: ManagedProcess[] = [];
  const cloudFaults: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  let listening: Record<string, unknown>;
  try {
    cloud.start();
    listening = await cloud.waitFor('listening', 60_000);
    const url = String(listening.url);
    print(`cloud     ${url} (key ${String(listening.marketKey)}; ${price} micro-mUSD per job, variant ${String(listening.variant)}, no verification)`);
    for (const l of plan.loads) {
      const p = createManagedProcess({ name: `load-${l.id}`, args: [...l.args(url), '--transport', 'http', '--wait-stdin'], logDir: cloudDir, stdin: true, entry: NODE_MAIN });
      loads.push(p);
      p.start();
    }
    await Promise.all(loads.map((p) => p.waitFor('ready', 60_000)));
    for (const p of loads) p.send('go');
    for (const f of scenario.faults ?? []) {
      if (f.target !== 'market') {
        cloudFaults.push(`${f.action} ${f.target} at ${f.atMs} ms: no counterpart in the cloud (not applied)`);
        continue;
      }
      timers.push(
        setTimeout(() => {
          cloudFaults.push(`${f.action} cloud at ${f.atMs} ms`);
          if (f.action === 'kill') {
            cloud.kill();
            if (f.restartAfterMs !== undefined) timers.push(setTimeout(() => cloud.start(), f.restartAfterMs));
          } else if (f.action === 'restart') {
            cloud.kill();
            timers.push(setTimeout(() => cloud.start(), 200));
          } else if (f.action === 'partition') cloud.pause();
          else cloud.resume();
        }, f.atMs),
      );
    }
    print(`cloud     load running for ${durationMs} ms`);
    await Promise.all(loads.map((p) => p.waitFor('summary', durationMs + 60_000).catch(() => null)));
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(loads.map((p) => p.stop(2_000)));
    await cloud.stop(3_000);
  }
  const cloudJobs = readLoadJobs(cloudDir);
  const cloudSide = sideMetrics(cloudJobs, { generationModels, validatorFeeBps: params.validatorFeeBps, throttled: readThrottled(cloudDir) });
  print(`cloud     ${cloudSide.settled}/${cloudSide.attempted} jobs settled`);
  if (options.signal?.aborted) throw new InfermarketError('ERR_INTERNAL', 'compare was interrupted');

  // ---- the market ----
  const marketDir = join(outDir, 'market');
  print(`market    starting the testnet for ${options.scenarioPath}`);
  const run = await runTestnet({ scenarioPath: options.scenarioPath, durationMs, outDir: marketDir, print: (l) => print(`market    ${l}`), ...(options.signal ? { signal: options.signal } : {}) });
  const marketJobs = readLoadJobs(marketDir);
  const hybrid = (run.report as { hybrid?: HybridGroupReport[] }).hybrid;
  const marketSide = sideMetrics(marketJobs, { generationModels, validatorFeeBps: params.validatorFeeBps, throttled: readThrottled(marketDir) });
  const variants = [...new Set(plan.nodes.filter((n) => n.role === 'miner').map((n) => { const i = n.args.indexOf('--variant'); return i >= 0 ? n.args[i + 1]! : 'int8'; }))];

  const comparison: Comparison = {
    scenario: scenario.name,
    seeds: { scenario: scenario.seed, loads: plan.resolved.clients.map((c) => c.seedLabel), cloudKey },
    durationMs,
    cloud: { ...cloudSide, priceMicro: price.toString(), variant: String(listening.variant), verification: 'none', faults: cloudFaults },
    market: {
      ...marketSide,
      variant: variants.join(', '),
      verification: `sampled, auditRate ${params.auditRate}`,
      faults: run.report.testnet.faults.map((f) => `${f.action} ${f.target} at ${f.atMs} ms`),
      outDir: marketDir,
      wrongSettled: run.report.truth ? { wrong: run.report.truth.wrong, settled: run.report.truth.settled } : null,
    },
    ratios: {
      latencyP50: ratio(marketSide.latencyMs?.p50, cloudSide.latencyMs?.p50),
      latencyP95: ratio(marketSide.latencyMs?.p95, cloudSide.latencyMs?.p95),
      latencyP99: ratio(marketSide.latencyMs?.p99, cloudSide.latencyMs?.p99),
      ttftP50: ratio(marketSide.ttftMs?.p50, cloudSide.ttftMs?.p50),
      costPer1000Jobs: ratio(Number(marketSide.costPer1000JobsMicro ?? NaN), Number(cloudSide.costPer1000JobsMicro ?? NaN)),
    },
    notes: [
      'Both sides ran the same load processes (same seeds, arrival times, inputs) on this machine, one after the other.',
      `The cloud charges a fixed ${price} micro-mUSD per job; the market's clients pay the winning bid plus protocol fee (${params.protocolFeeBps} bps) plus the validator fee (${params.validatorFeeBps} bps of the price) when audited.`,
      'Latency is measured by the client: submit to settled job (the market settles after its challenge/audit windows).',
      ...(hybrid?.length ? ['The market side has hybrid client groups: their jobs answered by the baseline count in the market column too; the hybrid rows split them by route.'] : []),
    ],
    ...(hybrid?.length ? { hybrid } : {}),
  };
  writeFileSync(join(outDir, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeFileSync(join(outDir, 'compare.html'), renderCompareHtml(comparison, { cloud: cloudJobs, market: marketJobs }));
  return { comparison, outDir };
}

const musd = (micro: string | null): string => (micro === null ? '—' : (Number(micro) / 1e6).toFixed(3));
const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | undefined): string => (x === undefined ? '—' : `${Math.round(x)}`);
const times = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)}×`);

/** The comparison as rows: [metric, cloud, market, market ÷ cloud]. */
export function comparisonRows(c: Comparison): string[][] {
  return [
    ['cost per 1,000 jobs (mUSD)', musd(c.cloud.costPer1000JobsMicro), musd(c.market.costPer1000JobsMicro), times(c.ratios.costPer1000Jobs)],
    ['verification', 'none', c.market.verification, ''],
    ['audit rate (settled jobs)', pct(c.cloud.auditRate), pct(c.market.auditRate), ''],
    ['verification share of cost', pct(c.cloud.verificationShare), pct(c.market.verificationShare), ''],
    ['latency p50 (ms)', ms(c.cloud.latencyMs?.p50), ms(c.market.latencyMs?.p50), times(c.ratios.latencyP50)],
    ['latency p95 (ms)', ms(c.cloud.latencyMs?.p95), ms(c.market.latencyMs?.p95), times(c.ratios.latencyP95)],
    ['latency p99 (ms)', ms(c.cloud.latencyMs?.p99), ms(c.market.latencyMs?.p99), times(c.ratios.latencyP99)],
    ['time to first token p50 (ms)', ms(c.cloud.ttftMs?.p50), ms(c.market.ttftMs?.p50), times(c.ratios.ttftP50)],
    ['time to first token p95 (ms)', ms(c.cloud.ttftMs?.p95), ms(c.market.ttftMs?.p95), ''],
    ['wrong outputs settled (re-executed)', 'not checked (runs the model itself)', c.market.wrongSettled ? `${c.market.wrongSettled.wrong}/${c.market.wrongSettled.settled}` : 'not measured', ''],
    ['success rate (settled ÷ accepted)', pct(c.cloud.successRate), pct(c.market.successRate), ''],
    ['availability (settled ÷ attempted)', pct(c.cloud.availability), pct(c.market.availability), ''],
    ['jobs settled / attempted', `${c.cloud.settled}/${c.cloud.attempted}`, `${c.market.settled}/${c.market.attempted}`, ''],
    ['arrivals throttled (client concurrency cap)', String(c.cloud.throttled), String(c.market.throttled), ''],
  ];
}

/** The comparison as a plain-text table. */
export function formatComparison(c: Comparison): string {
  const head = ['', 'cloud', 'market', 'market ÷ cloud'];
  const rows = [head, ...comparisonRows(c)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `compare ${c.scenario} (seed ${c.seeds.scenario}, load ${c.durationMs} ms)`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    `faults (cloud):  ${c.cloud.faults.join('; ') || 'none'}`,
    `faults (market): ${c.market.faults.join('; ') || 'none'}`,
    ...(c.hybrid?.length ? [formatHybrid(c.hybrid)] : []),
  ].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Latency CDF points (ms, share) of settled jobs. */
function cdf(jobs: readonly LoadJobLine[]): [number[], number[]] {
  const lat = jobs.filter((j) => j.status === 'settled').map((j) => j.latencyMs).sort((a, b) => a - b);
  return [lat, lat.map((_, i) => (i + 1) / lat.length)];
}

/** A self-contained HTML page (uPlot inlined, no network): the table and the latency CDFs of both sides. */
export function renderCompareHtml(c: Comparison, jobs: { cloud: readonly LoadJobLine[]; market: readonly LoadJobLine[] }): string {
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const data = JSON.stringify({ cloud: cdf(jobs.cloud), market: cdf(jobs.market) }).replace(/</g, '\\u003c');
  const rows = comparisonRows(c)
    .map((r) => `<tr>${r.map((x, i) => (i === 0 ? `<th>${esc(x)}</th>` : `<td>${esc(x)}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>compare ${esc(c.scenario)}</title>
<style>${css}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{text-align:left}
.meta{color:#555}
</style></head><body>
<h1>Market vs. centralized baseline: ${esc(c.scenario)}</h1>
<p class="meta">Scenario seed ${c.seeds.scenario}; load seeds ${esc(c.seeds.loads.join(', '))}; cloud key seed ${esc(c.seeds.cloudKey)}; load ${c.durationMs} ms per side. ${esc(c.notes.join(' '))}</p>
<table><tr><th></th><th>cloud</th><th>market</th><th>market ÷ cloud</th></tr>
${rows}
</table>
<p>Faults (cloud): ${esc(c.cloud.faults.join('; ') || 'none')}<br>Faults (market): ${esc(c.market.faults.join('; ') || 'none')}</p>
<h2>Latency of settled jobs (CDF, client-measured)</h2>
<div id="cdf"></div>
<script>${js}</script>
<script>
const d = ${data};
const xs = [...new Set([...d.cloud[0], ...d.market[0]])].sort((a, b) => a - b);
const at = (s) => xs.map((x) => { let k = 0; while (k < s[0].length && s[0][k] <= x) k++; return k === 0 ? null : s[1][k - 1]; });
new uPlot({ width: 900, height: 360, scales: { x: { time: false } },
  axes: [{ label: 'latency (ms)' }, { label: 'share of settled jobs' }],
  series: [{}, { label: 'cloud', stroke: '#2a7', width: 2 }, { label: 'market', stroke: '#c43', width: 2 }] },
  [xs, at(d.cloud), at(d.market)], document.getElementById('cdf'));
</script>
</body></html>
`;
}
