import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, createManagedProcess, NODE_MAIN, type ManagedProcess } from '../testnet/processes.js';

/** One miner of a benchmark testnet. */
export interface LiveMiner {
  models: string[];
  variant?: string;
  /** Jobs the miner bids on and runs at once. */
  concurrency?: number;
  priceMicro?: string;
}

/** Options for `startLiveNet`. */
export interface LiveNetOptions {
  /** Protocol parameter overrides given to the market. */
  params: Record<string, number | string>;
  miners: LiveMiner[];
  /** Honest validators (re-executing `validatorModels`). */
  validators?: number;
  validatorModels?: string[];
  /** Seeds the market key and the node keys. */
  seed: number;
  /** Wait after every node reported ready, for their model sessions to finish loading (default 1,500 ms). */
  settleMs?: number;
  /** Keep the logs directory after `stop` (default: removed). */
  keepLogs?: boolean;
}

/** A running benchmark testnet: real market, miner and validator processes on loopback. */
export interface LiveNet {
  url: string;
  wsUrl: string;
  dir: string;
  /** The market process (its pid gives its CPU time). */
  market: ManagedProcess;
  miners: ManagedProcess[];
  validators: ManagedProcess[];
  /** Every JSON line a node printed on stdout since it started (not capped), e.g. every `job.committed`. */
  lines(p: ManagedProcess): Record<string, unknown>[];
  /** Parsed JSON lines of a process's log file (its stdout), e.g. every `job.committed`. */
  logLines(p: ManagedProcess): Record<string, unknown>[];
  /** SIGTERM everything, wait for exit, remove the directory unless `keepLogs`. */
  stop(): Promise<void>;
}

/**
 * Start a market and its nodes as OS processes the way `infermarket testnet` does (same entries, same
 * flags, one intra-op thread per node), and wait until every node is registered and bonded.
 * No load generator: the benchmark drives the load itself so it can time each job.
 */
export async function startLiveNet(options: LiveNetOptions): Promise<LiveNet> {
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-net-'));
  const market = createManagedProcess({
    name: 'market',
    args: ['market', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'market.db'), '--seed', String(options.seed), '--params', JSON.stringify(options.params), '--json'],
    logDir: dir,
  });
  const all: ManagedProcess[] = [market];
  const stop = async (): Promise<void> => {
    await Promise.all(all.filter((p) => p !== market).map((p) => p.stop(2_000)));
    await market.stop(3_000);
    if (!options.keepLogs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    market.start();
    const listening = await market.waitFor('listening', 30_000);
    const url = String(listening.url);
    const wsUrl = String(listening.wsUrl ?? `${url.replace(/^http/, 'ws')}/v1/nodes`);
    const miners = options.miners.map((m, i) =>
      createManagedProcess({
        name: `miner-${i}`,
        entry: NODE_MAIN,
        logDir: dir,
        args: [
          'miner', '--market', wsUrl, '--model', m.models.join(','), '--strategy', 'honest', '--variant', m.variant ?? 'int8',
          '--concurrency', String(m.concurrency ?? 2), '--threads', '1', '--price', m.priceMicro ?? '1000',
          '--key-seed', `bench/${options.seed}/miner-${i}`, '--seed', `${options.seed}/${i}`, '--json',
        ],
      }),
    );
    const validators = Array.from({ length: options.validators ?? 0 }, (_, i) =>
      createManagedProcess({
        name: `validator-${i}`,
        entry: NODE_MAIN,
        logDir: dir,
        args: ['validator', '--market', wsUrl, '--model', (options.validatorModels ?? options.miners[0]?.models ?? ['digits']).join(','), '--threads', '1', '--key-seed', `bench/${options.seed}/validator-${i}`, '--json'],
      }),
    );
    all.push(...miners, ...validators);
    // every stdout JSON line of each node, uncapped (the managed process keeps only its recent lines)
    const collected = new Map<ManagedProcess, Record<string, unknown>[]>();
    for (const p of [...miners, ...validators]) {
      p.start();
      const out: Record<string, unknown>[] = [];
      collected.set(p, out);
      let buf = '';
      p.child?.stdout?.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          try {
            out.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not JSON
          }
        }
      });
    }
    await Promise.all([...miners, ...validators].map((p) => p.waitFor('ready', 60_000)));
    // a node prints "ready" once registered and bonded, while its sessions may still be loading (that
    // blocks its event loop, and bids sent meanwhile miss the bid window): give the warm-up time to end
    await new Promise((r) => setTimeout(r, options.settleMs ?? 1_500));
    return {
      url,
      wsUrl,
      dir,
      market,
      miners,
      validators,
      lines: (p) => collected.get(p) ?? [],
      logLines(p) {
        const out: Record<string, unknown>[] = [];
        for (const line of readFileSync(join(dir, `${p.name}.log`), 'utf8').split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            out.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // a line cut by the kill
          }
        }
        return out;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
