import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { CLI, removeRun, runCli, startMarket, tempDir } from './testnet-helpers.js';

// Per-node Prometheus metrics on a real market with a real miner (OS processes), read back with a real
// Prometheus text-format parser: the series Grafana's dashboard (docs/grafana/) queries must exist, with
// the role, instance-name and strategy labels the operator passed (--node-labels; the testnet passes them).

const MINER_SEED = 'metrics-test-miner';
const MINER = keyPairFromSeed(seedFromLabel(MINER_SEED)).address;

let dir = '';
let market: Awaited<ReturnType<typeof startMarket>> | undefined;
let miner: ChildProcess | undefined;

describe('GET /metrics per node', () => {
  beforeAll(async () => {
    dir = tempDir('metrics');
    market = await startMarket(['--db', `${dir}/market.db`, '--node-labels', JSON.stringify({ [MINER]: { name: 'honest-0', strategy: 'honest' } })]);
    miner = spawn(process.execPath, [CLI, 'miner', '--market', market.wsUrl, '--model', 'digits', '--key-seed', MINER_SEED, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      miner!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"event":"ready"')) resolve();
      });
      miner!.once('exit', (c) => reject(new Error(`miner exited ${c}`)));
    });
  });

  afterAll(async () => {
    miner?.kill('SIGTERM');
    await market?.stop();
    removeRun(dir);
  });

  it('exposes stake, balance, earnings, slashes and jobs by outcome per node, labelled role, name and strategy', async () => {
    const sub = await runCli(['submit', '--market', market!.url, '--model', 'digits', '--digit', '4', '--faucet', '1000000', '--key-seed', 'metrics-test-client', '--key-file', `${dir}/client.json`, '--json']);
    expect(sub.code, sub.stderr).toBe(0);
    const text = await (await fetch(`${market!.url}/metrics`)).text();
    const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const series = (name: string) => {
      const f = families.get(name);
      expect(f, `${name} missing from /metrics`).toBeDefined();
      return f!.metrics.filter((m) => m.labels?.address === MINER);
    };
    const one = (name: string): number => {
      const [m, ...rest] = series(name);
      expect(rest).toHaveLength(0);
      expect(m!.labels).toEqual({ address: MINER, role: 'miner', name: 'honest-0', strategy: 'honest' });
      return Number(m!.value);
    };
    expect(families.get('infermarket_node_stake_micro')!.type).toBe('GAUGE');
    expect(one('infermarket_node_stake_micro')).toBe(500_000_000);
    expect(one('infermarket_node_slashes')).toBe(0);
    expect(one('infermarket_node_slashed_micro')).toBe(0);
    expect(one('infermarket_node_online')).toBe(1);
    const earned = one('infermarket_node_earned_micro');
    expect(earned).toBeGreaterThan(0);
    expect(one('infermarket_node_balance_micro')).toBeGreaterThanOrEqual(earned);
    const jobs = Object.fromEntries(series('infermarket_node_jobs').map((m) => [m.labels!.outcome, Number(m.value)]));
    expect(jobs).toMatchObject({ assigned: 1, settled: 1, missed: 0 });
  });
});
