import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import * as sim from '@infermarket/sim';
import { requestJson } from '@infermarket/client';
import type { EconomicsReport, HybridGroupReport } from '@infermarket/sim';
import { formatHybrid, testnetHybrid } from './hybrid-report.js';
import { inlinePriceFile } from '../commands/sim.js';
import { formatEconomics, testnetEconomics } from './economics.js';
import { createTestnetCert, loadModelSpecs } from '@infermarket/market';
import { InfermarketError, parseScenario, resolveParams, type FeedEvent, type MarketStatsView, type RunReport, type Scenario } from '@infermarket/protocol';
import { CLI_MAIN, createManagedProcess, killAllChildren, NODE_MAIN, type ManagedProcess } from './processes.js';
import { planTestnet, type PlannedNode, type TestnetPlan } from './plan.js';
import { applyStrategyModules } from './strategy-modules.js';
import { buildReport, formatSummary, type TestnetExtras } from './report.js';
import { measureTruth } from './truth.js';

/** Options for `runTestnet`. */
export interface RunTestnetOptions {
  scenarioPath: string;
  /** Overrides the scenario's duration. */
  durationMs?: number;
  /** Output directory (default `runs/<name>-<seed>-<timestamp>`). */
  outDir?: string;
  /** Progress and summary lines (default: stderr/stdout writes). */
  print?: (line: string) => void;
  /** Progress line period (default 2 s). */
  progressEveryMs?: number;
  /** Stop early (Ctrl-C). */
  signal?: AbortSignal;
  /** Start the load only when every node is ready (default: as soon as every model can be served). */
  waitAll?: boolean;
  /** Address the market binds (default 127.0.0.1; 0.0.0.0 lets miners on other machines join). */
  host?: string;
  /** Market port (default: the scenario's `testnet.port`, else a free one). */
  port?: number;
  /** Models directory whose manifest the scenario is checked against (default: the repository's `models/`, what the market and nodes load). */
  modelsDir?: string;
  /** How long a node may take to report ready before the run stops (default 60 s). */
  startupTimeoutMs?: number;
}

/** What a run returns. */
export interface TestnetResult {
  report: RunReport & TestnetExtras;
  outDir: string;
  summary: string;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
  });

/** A TCP port that is free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePort(port));
    });
  });
}

async function fetchStats(url: string, ca?: string): Promise<MarketStatsView | null> {
  try {
    if (ca !== undefined) return await requestJson<MarketStatsView>(url, '/v1/stats', { ca, timeoutMs: 3_000 });
    const res = await fetch(`${url}/v1/stats`, { signal: AbortSignal.timeout(3_000) });
    if (!res.ok) return null;
    return (await res.json()) as MarketStatsView;
  } catch {
    return null;
  }
}

/**
 * Read and validate a scenario file; its model ids must be in the models manifest (`modelsDir`, default the
 * repository's `models/`: the one the market and the nodes of the testnet load).
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the file and the JSON path (an unknown model included);
 *   `ERR_NOT_FOUND` when there is no manifest.
 */
export function loadScenario(path: string, options: { modelsDir?: string } = {}): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `"--scenario" ${path} must be a readable JSON file: ${(e as Error).message}`);
  }
  const knownModels = [...loadModelSpecs(options.modelsDir).specs.keys()];
  try {
    // economics.oracle.file is read relative to the scenario and inlined, as `infermarket sim` does
    return inlinePriceFile(parseScenario(json, { knownModels }), path);
  } catch (e) {
    if (e instanceof InfermarketError) throw new InfermarketError(e.code, `${path}: ${e.message}`, { ...(e.details ? { details: e.details } : {}) });
    throw e;
  }
}

/** The last `lines` lines of a process log, for an error message. */
export function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).map((l) => `  | ${l}`).join('\n');
}

/**
 * Planned nodes the market has registered in their role, and registered miners per model. `bonded`
 * (start-up) also asks for stake bonded; at the end a slashed-out, ejected node still counts as registered.
 */
export function registeredNodes(plan: TestnetPlan, stats: MarketStatsView, opts: { bonded: boolean } = { bonded: true }): { registered: PlannedNode[]; minersByModel: Record<string, number> } {
  const byAddress = new Map(stats.nodes.map((n) => [n.address, n]));
  const registered = plan.nodes.filter((p) => {
    const n = byAddress.get(p.address);
    return n !== undefined && n.role === p.role && (!opts.bonded || BigInt(n.stakeMicro) > 0n);
  });
  const minersByModel: Record<string, number> = Object.fromEntries(plan.resolved.clientModels.map((m) => [m, 0]));
  for (const p of registered) {
    if (p.role !== 'miner') continue;
    for (const m of byAddress.get(p.address)!.models) if (m in minersByModel) minersByModel[m]!++;
  }
  return { registered, minersByModel };
}

/**
 * Run a live testnet from a scenario: start the market, the validators, the miners and one load
 * generator per client group as OS processes (logs in the output directory), apply the scenario's
 * faults at their times, print progress, then stop everything and write `report.json` (+ `report.html`
 * when the report renderer is available). Children are killed on exit, on Ctrl-C and on errors.
 */
export async function runTestnet(options: RunTestnetOptions): Promise<TestnetResult> {
  const print = options.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const scenario = loadScenario(options.scenarioPath, { ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}) });
  const params = resolveParams(scenario.params ?? {});
  const durationMs = options.durationMs ?? scenario.durationMs;
  const outDir = resolve(options.outDir ?? join('runs', `${scenario.name}-${scenario.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(outDir, { recursive: true });
  const plan: TestnetPlan = planTestnet(scenario, { durationMs });
  await applyStrategyModules(scenario, options.scenarioPath, plan);
  const t0 = Date.now();
  const procs = new Map<string, ManagedProcess>();
  // every timer is cleared in the finally below: an error mid-run must not leave an interval keeping the process alive
  const timers: NodeJS.Timeout[] = [];
  let pollTimer: NodeJS.Timeout | undefined;
  let fastPoll: NodeJS.Timeout | undefined;

  // choose the port up front so the nodes boot while the market does (they retry until it listens)
  const port = options.port ?? scenario.testnet?.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  // testnet.tls: a certificate made here for this run; every process trusts exactly it (NODE_EXTRA_CA_CERTS
  // for the node and load processes, the `ca` option here), none turns verification off
  const tls = scenario.testnet?.tls === true;
  const certFile = join(outDir, 'market.cert.pem');
  const keyFile = join(outDir, 'market.key.pem');
  let caPem: string | undefined;
  if (tls) {
    const c = createTestnetCert({ names: host !== '127.0.0.1' && host !== '0.0.0.0' ? [host] : [] });
    writeFileSync(keyFile, c.keyPem, { mode: 0o600 });
    writeFileSync(certFile, c.certPem);
    caPem = c.certPem;
  }
  const childEnv: Record<string, string> = tls ? { NODE_EXTRA_CA_CERTS: certFile } : {};
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const wsUrl = `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/v1/nodes`;
  const marketArgs = ['market', '--host', host, '--port', String(port), '--db', join(outDir, 'market.db'), '--seed', String(scenario.seed), '--params', JSON.stringify(scenario.params ?? {}), '--json'];
  marketArgs.push('--jobs-csv', join(outDir, 'jobs.csv'));
  marketArgs.push('--node-labels', JSON.stringify(Object.fromEntries(plan.nodes.map((n) => [n.address, { name: n.id, strategy: n.strategy }]))));
  if (tls) marketArgs.push('--tls-key', keyFile, '--tls-cert', certFile);
  // the market's own IMT oracle publishes the scenario's seeded price path (docs/economics.md)
  if (plan.oracle) {
    const oracleFile = join(outDir, 'oracle-prices.json');
    writeFileSync(oracleFile, `${JSON.stringify({ source: plan.oracle.source, points: plan.oracle.points })}
`);
    marketArgs.push('--oracle-prices', oracleFile);
  }
  const modelsArgs = options.modelsDir !== undefined ? ['--models-dir', resolve(options.modelsDir)] : [];
  marketArgs.push(...modelsArgs);
  const market = createManagedProcess({ name: 'market', args: marketArgs, logDir: outDir, entry: NODE_MAIN });
  procs.set('market', market);
  // a hybrid client group routes to the centralized baseline: one `infermarket cloud` process for the run
  const cloudPort = plan.cloud ? await freePort() : null;
  const cloudUrl = cloudPort !== null ? `http://127.0.0.1:${cloudPort}` : undefined;
  try {
    market.start();
    if (plan.cloud && cloudPort !== null) {
      const cloud = createManagedProcess({ name: 'cloud', args: ['cloud', '--port', String(cloudPort), '--price', plan.cloud.priceMicro, '--key-seed', `${scenario.seed}/cloud`, '--json', ...modelsArgs], logDir: outDir, entry: CLI_MAIN });
      procs.set('cloud', cloud);
      cloud.start();
    }
    for (const n of plan.nodes) {
      const p = createManagedProcess({ name: n.id, args: [n.role, '--market', wsUrl, ...n.args, ...modelsArgs], logDir: outDir, entry: NODE_MAIN, env: childEnv, cpu: n.cpu });
      procs.set(n.id, p);
      p.start();
    }
    // load generators boot (keys, faucet, sample inputs) alongside the nodes, then wait for "go"
    let clientSettled = 0;
    let clientPaidMicro = 0n;
    const onLoadLine = (j: Record<string, unknown>): void => {
      if (j.event !== 'job' || j.status !== 'settled' || typeof j.paidMicro !== 'string') return;
      // a hybrid job the baseline answered was paid there, not at the market
      if (j.route !== undefined && j.route !== 'market') return;
      clientSettled++;
      clientPaidMicro += BigInt(j.paidMicro);
    };
    for (const l of plan.loads) {
      const p = createManagedProcess({ name: `load-${l.id}`, args: [...l.args(url, cloudUrl), '--wait-stdin'], logDir: outDir, stdin: true, entry: NODE_MAIN, onLine: onLoadLine, env: childEnv });
      procs.set(`load-${l.id}`, p);
      p.start();
    }
    const listening = await market.waitFor('listening', 20_000);
    const dashboard = String(listening.dashboard ?? `${url}/`).replace(/\/\/(0\.0\.0\.0|\[::\]):/, '//127.0.0.1:');
    const marketKey = String(listening.marketKey ?? '');
    print(`market    ${url}  (key ${marketKey})`);
    print(`dashboard ${dashboard}`);
    print(`logs      ${outDir}`);
    const joinHost = host === '0.0.0.0' || host === '::' ? hostname() : host;
    print(`join      npx infermarket miner --market ${tls ? 'wss' : 'ws'}://${joinHost}:${port} --model ${plan.resolved.clientModels.join(',')} --strategy honest${tls ? ` --ca ${certFile}` : ''}`);

    // Start the load as soon as the network can serve it: every load generator funded, a miner up for
    // each model the clients use and a validator (when audits are on). The other nodes join as they come.
    // A node that exits before it is ready stops the run, with the tail of its log.
    const ready = new Set<string>();
    let startupMs: number | null = null;
    let startupFailure: InfermarketError | null = null;
    const stopRun = new AbortController();
    const runSignal = options.signal ? AbortSignal.any([options.signal, stopRun.signal]) : stopRun.signal;
    const faultTargets = new Set<string>();
    const startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
    const failStartup = (id: string, e: Error): void => {
      if (startupFailure || faultTargets.has(id) || options.signal?.aborted) return;
      const log = join(outDir, `${id}.log`);
      startupFailure = new InfermarketError('ERR_STARTUP', `${e.message}\nlast lines of ${log}:\n${logTail(log)}`, { details: { node: id, log } });
      print(`error     ${id} failed during start-up; stopping the run`);
      stopRun.abort();
    };
    const nodesReady = Promise.all(
      plan.nodes.map((n) =>
        procs
          .get(n.id)!
          .waitFor('ready', startupTimeoutMs)
          .then(() => void ready.add(n.id))
          .catch((e: Error) => failStartup(n.id, e)),
      ),
    ).then(() => {
      startupMs = Date.now() - t0;
      if (!startupFailure) print(`nodes     ${ready.size}/${plan.nodes.length} ready in ${startupMs} ms: ${plan.nodes.map((n) => `${n.id} (${n.role}, ${n.strategy})`).join(', ')}`);
    });
    const models = plan.resolved.clientModels;
    const servable = (): boolean =>
      models.every((m) => plan.nodes.some((n) => n.role === 'miner' && ready.has(n.id) && n.models.includes(m))) &&
      (params.auditRate === 0 || !plan.nodes.some((n) => n.role === 'validator') || plan.nodes.some((n) => n.role === 'validator' && ready.has(n.id)));
    await Promise.all(plan.loads.map((l) => procs.get(`load-${l.id}`)!.waitFor('ready', startupTimeoutMs).catch((e: Error) => failStartup(`load-${l.id}`, e))));
    while ((options.waitAll || !servable()) && startupMs === null && !startupFailure && !runSignal.aborted) await sleep(20);
    if (startupFailure) throw startupFailure;
    // count what the market registered, not what the nodes say: a "ready" line is a claim about the market
    let registration = registeredNodes(plan, (await fetchStats(url, caPem)) ?? { nodes: [] } as unknown as MarketStatsView);
    for (let i = 0; i < 50 && registration.registered.filter((n) => ready.has(n.id)).length < ready.size; i++) {
      await sleep(100);
      registration = registeredNodes(plan, (await fetchStats(url, caPem)) ?? ({ nodes: [] } as unknown as MarketStatsView));
    }
    const unserved = models.filter((m) => registration.minersByModel[m] === 0);
    if (unserved.length > 0) {
      const planned = (m: string): string => plan.nodes.filter((n) => n.role === 'miner' && n.models.includes(m)).map((n) => n.id).join(', ') || 'none planned';
      throw new InfermarketError(
        'ERR_STARTUP',
        `no registered miner serves ${unserved.map((m) => `"${m}" (miners for it: ${planned(m)})`).join(', ')}; the clients ask for it, so the load would only fail. Add a miner group for it or see the logs in ${outDir}`,
        { details: { models: unserved } },
      );
    }
    const servableMs = Date.now() - t0;
    const perModel = models.map((m) => `${m} ${registration.minersByModel[m]}`).join(', ');
    const validatorsUp = registration.registered.filter((n) => n.role === 'validator').length;
    print(`ready     ${registration.registered.length}/${plan.nodes.length} nodes registered at the market in ${servableMs} ms (miners per model: ${perModel}; validators ${validatorsUp}); starting the load`);
    for (const l of plan.loads) print(`accounts  ${l.id}: ${l.addresses.map((a) => `${a} (${(Number(l.fundMicro) / 1e6).toFixed(0)} ${l.fundToken})`).join(', ')}`);
    print(`keys      node and client keys derive from the scenario seed (reproducible addresses): NOT secret, anyone with the scenario can sign as them (docs/security.md)`);

    const loadStart = Date.now();
    for (const l of plan.loads) procs.get(`load-${l.id}`)!.send('go');

    // faults, relative to the start of the load
    const faults: TestnetExtras['testnet']['faults'] = [];
    timers.length = 0;
    for (const f of scenario.faults ?? []) {
      const proc = procs.get(f.target) ?? procs.get(`load-${f.target}`);
      if (!proc) {
        print(`fault     ignored: no process named "${f.target}"`);
        continue;
      }
      timers.push(
        setTimeout(() => {
          faultTargets.add(f.target);
          faults.push({ atMs: f.atMs, action: f.action, target: f.target, appliedAtMs: Date.now() - loadStart });
          if (f.action === 'kill') {
            print(`fault     ${((Date.now() - loadStart) / 1000).toFixed(1)} s: kill -9 ${f.target}${f.restartAfterMs !== undefined ? `, restart in ${f.restartAfterMs} ms` : ''}`);
            proc.kill();
            if (f.restartAfterMs !== undefined) timers.push(setTimeout(() => proc.start(), f.restartAfterMs));
          } else if (f.action === 'restart') {
            print(`fault     ${((Date.now() - loadStart) / 1000).toFixed(1)} s: restart ${f.target}`);
            if (proc.running()) {
              proc.kill();
              timers.push(setTimeout(() => proc.start(), 200));
            } else proc.start();
          } else if (f.action === 'partition') {
            // a frozen process keeps its sockets open but answers nothing: the market sees it go silent
            print(`fault     ${((Date.now() - loadStart) / 1000).toFixed(1)} s: partition ${f.target} (SIGSTOP)`);
            proc.pause();
          } else {
            print(`fault     ${((Date.now() - loadStart) / 1000).toFixed(1)} s: heal ${f.target} (SIGCONT)`);
            proc.resume();
          }
        }, f.atMs),
      );
    }

    // progress, and the feed collected from every poll (the market keeps only the recent part)
    const feed = new Map<string, FeedEvent>();
    let checks = 0;
    const violations: string[] = [];
    let firstSettledMs: number | null = null;
    let last: MarketStatsView | null = null;
    const poll = async (): Promise<MarketStatsView | null> => {
      const s = await fetchStats(url, caPem);
      if (!s) return null;
      checks++;
      last = s;
      if (!s.ledger.conserved) violations.push(`ledger not conserved at ${s.nowMs}`);
      violations.push(...s.invariantViolations);
      for (const e of s.feed) feed.set(`${e.tMs}|${e.kind}|${e.jobId ?? ''}|${e.node ?? ''}`, e);
      if (firstSettledMs === null && s.stats.settled > 0) firstSettledMs = Date.now() - t0;
      return s;
    };
    const every = options.progressEveryMs ?? 2_000;
    pollTimer = setInterval(() => {
      void poll().then((s) => {
        if (!s) return print(`progress  ${((Date.now() - loadStart) / 1000).toFixed(0)} s: market unreachable`);
        const st = s.stats;
        print(
          `progress  ${((Date.now() - loadStart) / 1000).toFixed(0).padStart(3)} s: ${st.submitted} submitted, ${st.settled} settled, ${st.failed} failed, ${st.reassigned} reassigned, ${st.audited} audited, ${st.minerSlashes + st.validatorSlashes} slashes, ledger ${s.ledger.conserved ? 'ok' : 'NOT conserved'}`,
        );
      });
    }, every);
    fastPoll = setInterval(() => {
      if (firstSettledMs === null) void poll();
    }, 100);

    await sleep(durationMs, runSignal);
    await nodesReady;
    if (startupFailure) throw startupFailure;
    clearInterval(fastPoll);
    for (const t of timers) clearTimeout(t);
    // let the load finish: it stops submitting at the duration and waits for its jobs
    if (!options.signal?.aborted) await Promise.all(plan.loads.map((l) => procs.get(`load-${l.id}`)!.waitFor('summary', 3_000).catch(() => null)));
    await Promise.all(plan.loads.map((l) => procs.get(`load-${l.id}`)!.stop(2_000)));
    // a restarted market or node must be up before the final numbers
    if (!market.running()) {
      market.start();
      await market.waitFor('listening', 20_000).catch(() => null);
    }
    // drain: wait until no escrow is held (every job settled or failed), bounded
    const windows = params.challengeWindowMs + params.auditWindowMs + params.disputeWindowMs + params.jobDeadlineMs;
    const drainUntil = Date.now() + Math.min(windows * params.maxAttempts, 15_000);
    while (Date.now() < drainUntil && !options.signal?.aborted) {
      const s = await poll();
      if (s && BigInt(s.ledger.escrowMicro) === 0n) break;
      await sleep(250);
    }
    clearInterval(pollTimer);
    const final = (await poll()) ?? last;
    const runMs = Date.now() - loadStart;
    await Promise.all(plan.nodes.map((n) => procs.get(n.id)!.stop(2_000)));
    await market.stop(5_000);
    if (!final) throw new InfermarketError('ERR_INTERNAL', `no statistics from the market at ${url}; see ${join(outDir, 'market.log')}`);
    const finalRegistered = new Set(registeredNodes(plan, final, { bonded: false }).registered.map((n) => n.id));
    const loadLines = plan.loads.map((l) => ({ id: l.id, ...(procs.get(`load-${l.id}`)!.lines.findLast((x) => x.event === 'summary') ?? {}) }));
    const report = buildReport({
      scenario,
      plan,
      stats: final,
      feed: [...feed.values()].sort((a, b) => a.tMs - b.tMs),
      durationMs: runMs,
      originMs: loadStart,
      clientPaid: { settled: clientSettled, paidMicro: clientPaidMicro },
      checks,
      violations,
      extras: {
        marketUrl: url,
        dashboard,
        marketKey,
        keys: 'derived from the scenario seed: not secret (docs/security.md)',
        outDir,
        faults,
        processes: plan.nodes.map((n) => ({ id: n.id, role: n.role, strategy: n.strategy, address: n.address, registered: finalRegistered.has(n.id), starts: procs.get(n.id)!.starts, log: join(outDir, `${n.id}.log`) })),
        registeredAtStart: { nodes: registration.registered.length, planned: plan.nodes.length, minersByModel: registration.minersByModel },
        load: loadLines,
        firstSettledMs,
        startupMs: startupMs ?? servableMs,
        servableMs,
      },
    });
    // the truth: re-execute the settled outputs through the real runtime (docs/verification.md)
    try {
      report.truth = await measureTruth({ dbPath: join(outDir, 'market.db'), strategyOf: new Map(plan.nodes.filter((n) => n.role === 'miner').map((n) => [n.address, n.strategy])) });
      const st = final.stats;
      report.truth.audits = { drawn: st.audited, missed: st.auditsMissed, reassigned: st.auditsReassigned, unavailable: st.auditsUnavailable };
      print(`truth     ${report.truth.wrong} wrong of ${report.truth.settled} settled outputs re-executed (${report.truth.wrongPerThousand ?? '-'} per 1,000); by strategy ${Object.entries(report.truth.byStrategy).map(([k, v]) => `${k} ${v.wrongPerThousand ?? '-'}`).join(', ')}`);
    } catch (e) {
      print(`truth not measured: ${(e as Error).message}`);
    }
    // the economics in dollars, by the simulator's accounting over the market's event log (docs/economics.md)
    try {
      const economics = testnetEconomics({ dbPath: join(outDir, 'market.db'), scenario, plan, logDir: outDir });
      if (economics) {
        (report as typeof report & { economics?: EconomicsReport }).economics = economics;
        print(formatEconomics(economics));
      }
    } catch (e) {
      print(`economics not measured: ${(e as Error).message}`);
    }
    // hybrid client groups: the share routed each way, the cost and the latency (docs/economics.md)
    try {
      const hybrid = testnetHybrid({ dbPath: join(outDir, 'market.db'), scenario, plan, loadLines: new Map(plan.loads.map((l) => [l.id, jsonLines(join(outDir, `load-${l.id}.log`))])) });
      if (hybrid.length) {
        (report as typeof report & { hybrid?: HybridGroupReport[] }).hybrid = hybrid;
        print(formatHybrid(hybrid));
      }
    } catch (e) {
      print(`hybrid not measured: ${(e as Error).message}`);
    }
    writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const render = (sim as unknown as { renderReportHtml?: (r: RunReport) => string }).renderReportHtml;
    if (typeof render === 'function') {
      try {
        writeFileSync(join(outDir, 'report.html'), render(report));
      } catch (e) {
        print(`report.html not written: ${(e as Error).message}`);
      }
    }
    return { report, outDir, summary: formatSummary(report) };
  } finally {
    clearInterval(pollTimer);
    clearInterval(fastPoll);
    for (const t of timers) clearTimeout(t);
    await Promise.all([...procs.values()].filter((p) => p.running()).map((p) => p.stop(1_000)));
    killAllChildren();
  }
}

/** The JSON lines of a process log (every line: the in-memory `lines` keep only the recent ones). */
function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line of a killed process
    }
  }
  return out;
}
