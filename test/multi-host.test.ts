// The market and its miners on separate "hosts": each in its own Linux network namespace, joined to the
// market's namespace by a veth pair, so every node has its own address and talks to the market over a real
// (virtual) link, as on several machines (docs/multi-host.md). The client runs in the test's own namespace
// over a third link. Needs root and `ip` (iproute2); without them the test is skipped with the reason printed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, removeRun, runCli, tempDir } from './testnet-helpers.js';

/** Why this machine cannot run the test, or null. */
function unsupported(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return '`ip` (iproute2) is not installed: apt-get install iproute2';
  }
  return null;
}
const reason = unsupported();
if (reason) console.warn(`test/multi-host.test.ts SKIPPED: ${reason}`);

const tag = randomBytes(3).toString('hex');
/** A /16 of private addresses no one else here uses: link i is 10.<octet>.<i>.0/30 (.1 market side, .2 other side). */
const octet = 200 + (randomBytes(1)[0]! % 50);
const MARKET_NS = `im-mkt-${tag}`;
const MINERS = ['miner-a', 'miner-b'] as const;
const nsOf = (i: number): string => `im-n${i}-${tag}`;
const marketSide = (i: number): string => `10.${octet}.${i}.1`;
const otherSide = (i: number): string => `10.${octet}.${i}.2`;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const created: string[] = [];
const hostLinks: string[] = [];

/** Link `i`: a veth pair between the market's namespace and `ns` (or the test's own namespace when null). */
function link(i: number, ns: string | null): void {
  const a = `imv${i}m${tag}`;
  const b = `imv${i}o${tag}`;
  ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  if (ns === null) hostLinks.push(b);
  ip('link', 'set', a, 'netns', MARKET_NS);
  ip('-n', MARKET_NS, 'addr', 'add', `${marketSide(i)}/30`, 'dev', a);
  ip('-n', MARKET_NS, 'link', 'set', a, 'up');
  if (ns) {
    ip('link', 'set', b, 'netns', ns);
    ip('-n', ns, 'addr', 'add', `${otherSide(i)}/30`, 'dev', b);
    ip('-n', ns, 'link', 'set', b, 'up');
  } else {
    ip('addr', 'add', `${otherSide(i)}/30`, 'dev', b);
    ip('link', 'set', b, 'up');
  }
}

function cleanup(): void {
  for (const l of hostLinks.splice(0)) {
    try {
      ip('link', 'del', l);
    } catch {
      // gone with its namespace peer already
    }
  }
  for (const ns of created.splice(0)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
}

/** Start `infermarket <args>` inside a namespace; resolves on the first stdout line matching `ready`. */
function startIn(ns: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} in ${ns} not ready:\n${err.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    });
    child.once('exit', (c) => reject(new Error(`${args[0]} in ${ns} exited ${c}:\n${err.slice(-2000)}`)));
  });
}

const procs: ChildProcess[] = [];
let dir = '';
let port = 0;

describe.skipIf(reason !== null)('market and miners in separate network namespaces', () => {
  beforeAll(async () => {
    process.once('exit', cleanup);
    dir = tempDir('multi-host');
    for (const ns of [MARKET_NS, ...MINERS.map((_, i) => nsOf(i + 1))]) {
      ip('netns', 'add', ns);
      created.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    link(0, null); // the test (client) ↔ market
    MINERS.forEach((_, i) => link(i + 1, nsOf(i + 1)));
    const m = await startIn(MARKET_NS, ['market', '--host', '0.0.0.0', '--port', '0', '--db', `${dir}/market.db`], /"event":"listening"/);
    port = Number(new URL((JSON.parse(m.line) as { url: string }).url).port);
    await Promise.all(
      MINERS.map((name, i) =>
        startIn(nsOf(i + 1), ['miner', '--market', `ws://${marketSide(i + 1)}:${port}`, '--model', 'digits', '--key-seed', `${name}-${tag}`, '--key-file', `${dir}/${name}.json`, '--json'], /"event":"ready"/),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
            setTimeout(() => p.kill('SIGKILL'), 3_000).unref();
          }),
      ),
    );
    cleanup();
    removeRun(dir);
  });

  it('a miner namespace reaches the market only over its own link, not the host\'s loopback', () => {
    // the market listens inside its namespace: nothing answers on the test's 127.0.0.1 at that port
    const probe = () => execFileSync('ip', ['netns', 'exec', nsOf(1), process.execPath, '-e', `fetch('http://127.0.0.1:${port}/v1/health').then(()=>process.exit(0),()=>process.exit(3))`], { stdio: 'ignore' });
    expect(probe).toThrow();
    const health = execFileSync('ip', ['netns', 'exec', nsOf(1), process.execPath, '-e', `fetch('http://${marketSide(1)}:${port}/v1/health').then(r=>r.json()).then(j=>console.log(j.ok))`], { encoding: 'utf8' });
    expect(health.trim()).toBe('true');
  });

  it('jobs settle with the market, each miner and the client on distinct addresses', async () => {
    const market = `http://${marketSide(0)}:${port}`;
    for (let i = 0; i < 4; i++) {
      const r = await runCli(['submit', '--market', market, '--model', 'digits', '--digit', String(i), '--faucet', '1000000', '--key-seed', `multi-host-client-${tag}`, '--key-file', `${dir}/client.json`, '--json']);
      expect(r.code, r.stderr).toBe(0);
      // the market signed the settlement (no validator runs here, so nobody re-executed it: `verified` stays false)
      expect((JSON.parse(r.stdout) as { receipt: { signatureValid: boolean } }).receipt.signatureValid).toBe(true);
    }
    // the market's namespace sees each miner's WebSocket from that miner's own address
    const peers = execFileSync('ip', ['netns', 'exec', MARKET_NS, 'ss', '-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
    for (let i = 1; i <= MINERS.length; i++) expect(peers).toContain(`${otherSide(i)}:`);
    const stats = (await (await fetch(`${market}/v1/stats`)).json()) as { nodes: { role: string; online: boolean; jobsSettled: number }[]; stats: { settled: number } };
    const miners = stats.nodes.filter((n) => n.role === 'miner');
    expect(miners).toHaveLength(2);
    expect(miners.every((n) => n.online)).toBe(true);
    expect(stats.stats.settled).toBeGreaterThanOrEqual(4);
  });
});
