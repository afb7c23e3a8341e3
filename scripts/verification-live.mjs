#!/usr/bin/env node
// Run the adversarial scenario on the LIVE testnet once per verification level and print the trade-off table
// of docs/verification.md ("The trade-off, measured live"): cost per 1,000 settled jobs, latency p50/p95 and
// wrong outputs delivered per 1,000 settled jobs (the testnet's truth report: every settled output
// re-executed through onnxruntime after the run).
//
//   node scripts/verification-live.mjs [--scenario scenarios/adversarial.json] [--duration 10] [--rate 1.5]
//        [--levels none,sampled,always,redundant] [--seed 7] [--out runs/verification-live]
//
// Every client group of the scenario is set to the level; --rate overrides each client's ratePerSec (a reduced
// load for a shared machine). Each level's report.json stays in OUT/<level>/; the table and the exact command
// go to OUT/summary.json and stdout. Needs a build (`npx tsc -b`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values: o } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'scenarios/adversarial.json' },
    duration: { type: 'string', default: '10' },
    rate: { type: 'string' },
    levels: { type: 'string', default: 'none,sampled,always,redundant' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'runs/verification-live' },
  },
});
const LEVELS = ['none', 'sampled', 'always', 'redundant'];
const levels = o.levels.split(',');
for (const l of levels) if (!LEVELS.includes(l)) throw new Error(`--levels: "${l}" is not one of ${LEVELS.join(', ')}`);
const duration = Number(o.duration);
if (!(duration > 0)) throw new Error(`--duration must be a positive number of seconds, got ${o.duration}`);
const rate = o.rate === undefined ? undefined : Number(o.rate);
if (rate !== undefined && !(rate > 0)) throw new Error(`--rate must be a positive number of jobs/s per client, got ${o.rate}`);
const base = JSON.parse(readFileSync(o.scenario, 'utf8'));
const seed = o.seed === undefined ? base.seed : Number(o.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${o.seed}`);
const outDir = resolve(o.out);
mkdirSync(outDir, { recursive: true });
const cli = resolve('packages/cli/dist/main.js');

const rows = [];
for (const level of levels) {
  const scenario = {
    ...base,
    name: `${base.name}-${level}`,
    seed,
    clients: base.clients.map((c) => ({ ...c, verification: level, ...(rate !== undefined ? { ratePerSec: rate } : {}) })),
  };
  const file = join(outDir, `${level}.scenario.json`);
  writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`);
  const dir = join(outDir, level);
  const t0 = Date.now();
  process.stderr.write(`[${new Date().toISOString()}] ${level}: testnet ${duration} s …\n`);
  const r = spawnSync(process.execPath, [cli, 'testnet', '--scenario', file, '--duration', String(duration), '--out', dir, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${level}: testnet exited ${r.status}`);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  const truth = report.truth ?? null;
  // submit → settle (the report's latency is submit → the miner's result; settling adds the audit and the challenge window)
  const db = new Database(join(dir, 'market.db'), { readonly: true });
  const settle = db.prepare("SELECT finished_at_ms - submitted_at_ms AS ms FROM jobs WHERE status = 'settled' ORDER BY ms").all().map((r) => r.ms);
  const failures = Object.fromEntries(db.prepare("SELECT failure, COUNT(*) AS n FROM jobs WHERE status = 'failed' GROUP BY failure").all().map((r) => [r.failure, r.n]));
  db.close();
  const pct = (q) => (settle.length ? settle[Math.min(settle.length - 1, Math.ceil((q / 100) * settle.length) - 1)] : null);
  rows.push({
    level,
    seed: report.seed,
    submitted: report.jobs.submitted,
    settled: report.jobs.settled,
    failed: report.jobs.failed,
    costPerThousandMicro: report.costPerThousandMicro,
    latencyMs: report.latencyMs,
    settleLatencyMs: { p50: pct(50), p95: pct(95) },
    failures,
    truth: truth ? { settled: truth.settled, wrong: truth.wrong, wrongPerThousand: truth.wrongPerThousand, unchecked: truth.unchecked, byStrategy: truth.byStrategy, audits: truth.audits ?? null } : null,
    slashed: report.jobs.slashed,
    audited: report.jobs.audited,
    wallMs: Date.now() - t0,
  });
}
const command = `node scripts/verification-live.mjs --scenario ${o.scenario} --duration ${o.duration}${o.rate !== undefined ? ` --rate ${o.rate}` : ''} --levels ${o.levels} --seed ${seed} --out ${o.out}`;
writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify({ command, scenario: o.scenario, seed, durationS: duration, ratePerSec: rate ?? null, rows }, null, 2)}\n`);
const musd = (micro) => (micro === null || micro === undefined ? '–' : (Number(micro) / 1e6).toFixed(2));
const lines = [
  '| level | seed | submitted | settled | failed (reasons) | cost per 1,000 settled (mUSD) | result latency p50 / p95 (ms) | settle latency p50 / p95 (ms) | wrong delivered / re-executed | wrong delivered per 1,000 settled |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| \`${r.level}\` | ${r.seed} | ${r.submitted} | ${r.settled} | ${r.failed}${r.failed ? ` (${Object.entries(r.failures).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''} | ${musd(r.costPerThousandMicro)} | ${r.latencyMs.p50} / ${r.latencyMs.p95} | ${r.settleLatencyMs.p50} / ${r.settleLatencyMs.p95} | ${r.truth ? `${r.truth.wrong} / ${r.truth.settled}` : '–'} | ${r.truth?.wrongPerThousand ?? '–'} |`),
];
process.stdout.write(`${command}\n\n${lines.join('\n')}\n`);
