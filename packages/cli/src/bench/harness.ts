import { cpus, totalmem, platform, arch } from 'node:os';
import { createRequire } from 'node:module';
import type { MachineLoad } from './machine-load.js';

/** One measured quantity of a suite. */
export interface BenchRow {
  suite: string;
  name: string;
  /** Median over repeats. */
  value: number;
  unit: string;
  /** Spread: min and max over repeats. */
  min: number;
  max: number;
  repeats: number;
  /** Target, if the issue sets one, and whether it was met. */
  target?: { op: '>=' | '<='; value: number; met: boolean };
  note?: string;
}

/** One suite's run as `results.json` records it: when, under what load, with what seeds and settings. */
export interface SuiteRun {
  suite: string;
  quick: boolean;
  /** The machine's load when the suite started. */
  load: MachineLoad;
  wallMs: number;
  /** What the suite recorded (`SuiteContext.record`): seeds, settings, effective parameters, raw blocks. */
  meta: Record<string, unknown>;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  onnxruntime: string | null;
  date: string;
}

export function machineInfo(): Machine {
  const require = createRequire(import.meta.url);
  let ort: string | null = null;
  try {
    ort = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    ort = null;
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()}-${arch()}`,
    node: process.version,
    onnxruntime: ort,
    date: new Date().toISOString(),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Warm up once, then repeat `measure` and summarise as median and min/max.
 * `measure` returns the quantity itself (e.g. jobs/s), not a duration.
 */
export async function repeat(
  opts: { suite: string; name: string; unit: string; repeats?: number; warmup?: number; target?: { op: '>=' | '<='; value: number }; note?: string },
  measure: () => Promise<number> | number,
): Promise<BenchRow> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) await measure();
  const values: number[] = [];
  for (let i = 0; i < (opts.repeats ?? 5); i++) values.push(await measure());
  const value = median(values);
  const row: BenchRow = { suite: opts.suite, name: opts.name, value, unit: opts.unit, min: Math.min(...values), max: Math.max(...values), repeats: values.length };
  if (opts.target) row.target = { ...opts.target, met: opts.target.op === '>=' ? value >= opts.target.value : value <= opts.target.value };
  if (opts.note) row.note = opts.note;
  return row;
}

const fmt = (v: number): string => (!Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3));

/** The Markdown table the README includes. */
export function benchTableMarkdown(rows: BenchRow[], machine: Machine, runs: SuiteRun[] = []): string {
  const lines = [
    `Measured ${machine.date.slice(0, 10)} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, onnxruntime-node ${machine.onnxruntime ?? 'n/a'}.`,
    '',
    '| suite | measure | median | spread (min … max) | target | |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const target = r.target ? `${r.target.op} ${fmt(r.target.value)}` : '';
    const met = r.target ? (r.target.met ? 'met' : '**missed**') : '';
    lines.push(`| ${r.suite} | ${r.name}${r.note ? ` (${r.note})` : ''} | ${fmt(r.value)} ${r.unit} | ${fmt(r.min)} … ${fmt(r.max)} | ${target} | ${met} |`);
  }
  if (runs.length) {
    lines.push('', 'Machine load (1, 5, 15 min averages) at the start of each suite, and the seeds it recorded:', '');
    for (const r of runs) {
      const seeds = Object.entries(r.meta).filter(([k]) => /seed/i.test(k)).map(([k, v]) => `${k} ${String(v)}`);
      lines.push(`- ${r.suite}: ${r.load.loadavg.map((x) => x.toFixed(2)).join(', ')} on ${r.load.cores} cores at ${r.load.atIso.slice(11, 19)} UTC${r.quick ? ' (quick)' : ''}${seeds.length ? `; ${seeds.join(', ')}` : ''}`);
    }
  }
  return lines.join('\n');
}
