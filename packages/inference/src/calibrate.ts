/**
 * Cross-CPU calibration (`infermarket models calibrate`): runs every model × variant on the same
 * deterministic inputs natively and under emulated x86-64 CPUs (Debian's `qemu-user`,
 * `qemu-x86_64 -cpu <model>`; onnxruntime picks its kernels by CPUID, so each tier runs its own SSE /
 * AVX / AVX2+FMA code), compares every CPU pair, and records the honest divergence per variant in the
 * manifest next to the comparator tolerance, with the nearest cheat for contrast.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus as osCpus, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareOutputs } from '@infermarket/protocol';
import { InferenceError } from './errors.js';
import { createRuntime } from './runtime.js';
import { loadManifest, MODEL_IDS } from './manifest.js';
import type { CrossCpuCalibration, Manifest, ModelId } from './manifest.js';
import { VARIANTS } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import type { WorkerResult, WorkerSpec } from './calibrate-inputs.js';
import { DEFAULT_MODELS_DIR } from './paths.js';

/** The Debian package that provides `qemu-x86_64`. */
export const QEMU_APT_PACKAGE = 'qemu-user';
/** x86-64 tiers of the default run: no SSE4 (qemu64), SSE4.2 (Nehalem), AVX (SandyBridge), AVX2+FMA (Haswell). */
export const DEFAULT_CALIBRATION_CPUS: readonly string[] = Object.freeze(['qemu64', 'Nehalem', 'SandyBridge', 'Haswell']);
/** qemu CPU models without FMA (the other side of the line where MLAS switches Sigmoid/Tanh/GEMM kernels). */
export const CPUS_WITHOUT_FMA: readonly string[] = Object.freeze(['qemu64', 'kvm64', 'core2duo', 'Conroe', 'Penryn', 'Nehalem', 'Westmere', 'SandyBridge', 'IvyBridge']);
export const DEFAULT_CALIBRATION = Object.freeze({ samples: 32, genJobs: 4, genTokens: 32, temperature: 0.8, seed: 1, concurrency: 2 });
/** The compiled worker (next to this file in dist/; from src/ under vitest, the built one in ../dist/). */
const WORKER_PATH = ((): string => {
  const beside = fileURLToPath(new URL('./calibrate-worker.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../dist/calibrate-worker.js', import.meta.url));
})();

/** Finds `qemu-x86_64` on PATH; undefined when qemu-user is not installed. */
export function findQemu(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'qemu-x86_64');
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

let cpuListCache: { qemu: string; cpus: Set<string> } | undefined;

/**
 * The command that runs `command args` on emulated CPU `cpu` (`qemu-x86_64 -cpu <cpu> command args`).
 * One implementation for calibration and the testnet's `"cpu"` miners.
 * @throws InferenceError ERR_VALIDATION when qemu-user is missing (naming the apt package), the host is
 *   not x86-64, or qemu does not know the CPU model (listing the known ones).
 */
export function emulatedCommand(cpu: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } {
  if (process.arch !== 'x64') throw new InferenceError('ERR_VALIDATION', `cpu "${cpu}": emulating x86-64 CPU models needs an x86-64 host (this one is ${process.arch})`);
  const qemu = findQemu(env);
  if (!qemu) throw new InferenceError('ERR_VALIDATION', `cpu "${cpu}": qemu-x86_64 is not installed; install Debian's "${QEMU_APT_PACKAGE}" package (apt-get install -y ${QEMU_APT_PACKAGE}) or drop the emulated CPU`);
  if (cpuListCache?.qemu !== qemu) {
    const r = spawnSync(qemu, ['-cpu', 'help'], { encoding: 'utf8' });
    const cpus = new Set<string>();
    for (const line of (r.stdout ?? '').split('\n')) {
      const m = /^x86\s+(\S+)/.exec(line.trim());
      if (m) cpus.add(m[1]!);
    }
    cpuListCache = { qemu, cpus };
  }
  if (!cpuListCache.cpus.has(cpu)) {
    throw new InferenceError('ERR_VALIDATION', `cpu "${cpu}" is not a qemu-x86_64 CPU model; known: ${[...cpuListCache.cpus].filter((c) => /^[A-Z]|^qemu64$/.test(c) && !/-v[0-9]+$/.test(c)).join(', ')}`);
  }
  return { command: qemu, args: ['-cpu', cpu, command, ...args] };
}

export interface CalibrateOptions {
  modelsDir?: string;
  /** Emulated CPU models; `native` (this machine) is always included first. */
  cpus?: readonly string[];
  models?: readonly ModelId[];
  variants?: readonly Variant[];
  samples?: number;
  genJobs?: number;
  genTokens?: number;
  temperature?: number;
  seed?: number;
  /** Emulated workers run at the same time. */
  concurrency?: number;
  onProgress?: (line: string) => void;
}

export interface PairStats {
  a: string;
  b: string;
  /** Run jobs compared, jobs whose outputs are not bit-identical, argmax flips, comparator rejections. */
  jobs: number;
  differing: number;
  argmaxFlips: number;
  rejected: number;
  maxAbsDiff: number;
  /** charlm: generation jobs compared and those whose tokens differ (greedy, sampled). */
  greedyJobs?: number;
  greedyDiffering?: number;
  sampledJobs?: number;
  sampledDiffering?: number;
  /** Position of the first differing sampled token, per differing job. */
  sampledFirstDiff?: number[];
}

export interface VariantCalibration {
  model: ModelId;
  variant: Variant;
  sha256: string;
  tolerance: number | null;
  pairs: PairStats[];
  summary: CrossCpuCalibration;
}

export interface CalibrationReport {
  createdAt: string;
  host: string;
  node: string;
  onnxruntimeNode: string;
  cpus: string[];
  options: Required<Omit<CalibrateOptions, 'modelsDir' | 'cpus' | 'models' | 'variants' | 'onProgress'>>;
  variants: VariantCalibration[];
  seconds: number;
}

function decodeRows(b64: string, rowLen: number): Float32Array[] {
  const buf = Buffer.from(b64, 'base64');
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const rows: Float32Array[] = [];
  for (let o = 0; o < all.length; o += rowLen) rows.push(all.subarray(o, o + rowLen));
  return rows;
}

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}

function rowTensor(row: Float32Array) {
  return { dtype: 'float32' as const, dims: [1, row.length], data: row };
}

function firstDiff(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function runWorker(spec: WorkerSpec, log: (l: string) => void): Promise<WorkerResult> {
  const node = process.execPath;
  const cmd = spec.cpu === 'native' ? { command: node, args: [WORKER_PATH] } : emulatedCommand(spec.cpu, node, [WORKER_PATH]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let tail = '';
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      // qemu warns once per CPUID feature TCG cannot emulate (e.g. Haswell's rtm): noise, not progress
      for (const line of lines) if (line.trim() && !line.includes("TCG doesn't support")) log(line.trim());
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new InferenceError('ERR_VALIDATION', `calibration worker on cpu "${spec.cpu}" exited with ${code}: ${tail.slice(-800)}`));
      resolve(JSON.parse(readFileSync(spec.outPath, 'utf8')) as WorkerResult);
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

/**
 * Runs the calibration. Native first (it also regenerates uncommitted `heavy` files), then the
 * emulated CPUs, `concurrency` at a time.
 * @throws InferenceError ERR_VALIDATION when an emulated CPU is asked for and qemu-user is missing.
 */
export async function calibrate(opts: CalibrateOptions = {}): Promise<CalibrationReport> {
  const t0 = Date.now();
  const modelsDir = opts.modelsDir ?? DEFAULT_MODELS_DIR;
  const cpus = ['native', ...(opts.cpus ?? DEFAULT_CALIBRATION_CPUS).filter((c) => c !== 'native')];
  if (cpus.length < 2) throw new InferenceError('ERR_VALIDATION', `calibrate: "cpus" needs at least one emulated CPU model besides native, e.g. ${DEFAULT_CALIBRATION_CPUS.join(',')}`);
  for (const c of cpus.slice(1)) emulatedCommand(c, process.execPath, []); // fail before any work
  const o = {
    samples: opts.samples ?? DEFAULT_CALIBRATION.samples,
    genJobs: opts.genJobs ?? DEFAULT_CALIBRATION.genJobs,
    genTokens: opts.genTokens ?? DEFAULT_CALIBRATION.genTokens,
    temperature: opts.temperature ?? DEFAULT_CALIBRATION.temperature,
    seed: opts.seed ?? DEFAULT_CALIBRATION.seed,
    concurrency: Math.max(1, opts.concurrency ?? DEFAULT_CALIBRATION.concurrency),
  };
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isFinite(v) || v < 0 || (k !== 'temperature' && !Number.isInteger(v))) throw new InferenceError('ERR_VALIDATION', `calibrate: "${k}" must be a non-negative ${k === 'temperature' ? 'number' : 'integer'}, got ${String(v)}`);
  }
  const log = opts.onProgress ?? (() => {});
  const manifest = loadManifest(modelsDir);
  const models = opts.models ?? MODEL_IDS;
  const variants = opts.variants ?? VARIANTS;
  const jobs = models.flatMap((model) => variants.map((variant) => ({ model, variant })));
  // make sure uncommitted files exist (regenerated natively, not under emulation)
  const rt = createRuntime({ modelsDir });
  for (const j of jobs) await rt.load(j.model, j.variant);
  await rt.close();
  const dir = mkdtempSync(join(tmpdir(), 'infermarket-calibrate-'));
  const results = new Map<string, WorkerResult>();
  try {
    const specFor = (cpu: string): WorkerSpec => ({ cpu, modelsDir, jobs, ...o, outPath: join(dir, `${cpu}.json`) });
    const stamp = (l: string) => log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${l}`);
    stamp(`native: ${jobs.length} model variants × ${o.samples} run jobs, charlm ${o.genJobs} greedy + ${o.genJobs} sampled (T=${o.temperature}) × ${o.genTokens} tokens`);
    results.set('native', await runWorker(specFor('native'), stamp));
    const queue = cpus.slice(1);
    const runNext = async (): Promise<void> => {
      const cpu = queue.shift();
      if (!cpu) return;
      stamp(`${cpu}: starting under qemu-x86_64 -cpu ${cpu} (Node + onnxruntime startup under emulation takes a while)`);
      results.set(cpu, await runWorker(specFor(cpu), stamp));
      await runNext();
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, queue.length) }, runNext));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const out: VariantCalibration[] = [];
  for (const { model, variant } of jobs) {
    const entry = manifest.models[model];
    const v = entry.variants[variant];
    const key = `${model}/${variant}`;
    const rowLen = Number(entry.outputs.find((x) => x.name === entry.primaryOutput)!.shape[1]);
    const spec = v.comparator as Parameters<typeof compareOutputs>[0];
    const rowsBy = new Map(cpus.map((c) => [c, decodeRows(results.get(c)!.tensors[key]!, rowLen)]));
    const pairs: PairStats[] = [];
    for (let i = 0; i < cpus.length; i++) {
      for (let j = i + 1; j < cpus.length; j++) {
        const A = rowsBy.get(cpus[i]!)!;
        const B = rowsBy.get(cpus[j]!)!;
        const p: PairStats = { a: cpus[i]!, b: cpus[j]!, jobs: A.length, differing: 0, argmaxFlips: 0, rejected: 0, maxAbsDiff: 0 };
        for (let r = 0; r < A.length; r++) {
          let d = 0;
          for (let k = 0; k < rowLen; k++) d = Math.max(d, Math.abs(A[r]![k]! - B[r]![k]!));
          if (d > 0 || A[r]!.some((x, k) => Object.is(x, B[r]![k]!) === false)) p.differing++;
          p.maxAbsDiff = Math.max(p.maxAbsDiff, d);
          if (argmax(A[r]!) !== argmax(B[r]!)) p.argmaxFlips++;
          if (!compareOutputs(spec, rowTensor(A[r]!), rowTensor(B[r]!)).match) p.rejected++;
        }
        const ga = results.get(cpus[i]!)!.generation[key];
        const gb = results.get(cpus[j]!)!.generation[key];
        if (ga && gb) {
          p.greedyJobs = ga.greedy.length;
          p.greedyDiffering = ga.greedy.filter((t, n) => firstDiff(t, gb.greedy[n]!) >= 0).length;
          p.sampledJobs = ga.sampled.length;
          const fd = ga.sampled.map((t, n) => firstDiff(t, gb.sampled[n]!)).filter((x) => x >= 0);
          p.sampledDiffering = fd.length;
          p.sampledFirstDiff = fd;
        }
        pairs.push(p);
      }
    }
    // cheats, from the native outputs: every other variant served as this one, and another input's output
    const native = rowsBy.get('native')!;
    const cheats: { name: string; minMaxAbsDiff: number; accepted: number }[] = [];
    const cheat = (name: string, rows: (r: number) => Float32Array) => {
      let min = Infinity;
      let accepted = 0;
      for (let r = 0; r < native.length; r++) {
        const c = rows(r);
        let d = 0;
        for (let k = 0; k < rowLen; k++) d = Math.max(d, Math.abs(native[r]![k]! - c[k]!));
        min = Math.min(min, d);
        if (compareOutputs(spec, rowTensor(native[r]!), rowTensor(c)).match) accepted++;
      }
      cheats.push({ name, minMaxAbsDiff: min, accepted });
    };
    for (const other of variants) {
      if (other === variant) continue;
      const rows = decodeRows(results.get('native')!.tensors[`${model}/${other}`]!, rowLen);
      cheat(`${other} served as ${variant}`, (r) => rows[r]!);
    }
    if (native.length > 1) cheat('another input\'s output (lazy)', (r) => native[(r + 1) % native.length]!);
    const nearest = cheats.reduce((a, b) => (b.minMaxAbsDiff < a.minMaxAbsDiff ? b : a), cheats[0] ?? { name: 'none', minMaxAbsDiff: Infinity, accepted: 0 });
    const margins = results.get('native')!.generation[key]?.margins.flat() ?? [];
    const tolerance = spec.kind === 'argmax-maxabs' ? spec.tolerance : null;
    const gen = pairs.filter((p) => p.greedyJobs !== undefined);
    const summary: CrossCpuCalibration = {
      measuredAt: new Date().toISOString(),
      sha256: v.sha256,
      cpus,
      samples: o.samples,
      worstHonestMaxAbsDiff: Math.max(0, ...pairs.map((p) => p.maxAbsDiff)),
      honestDifferingJobs: pairs.reduce((n, p) => n + p.differing, 0),
      honestArgmaxFlips: pairs.reduce((n, p) => n + p.argmaxFlips, 0),
      honestRejections: pairs.reduce((n, p) => n + p.rejected, 0),
      honestJobs: pairs.reduce((n, p) => n + p.jobs, 0),
      nearestCheat: nearest.name,
      nearestCheatMinMaxAbsDiff: nearest.minMaxAbsDiff,
      cheatsAccepted: Object.fromEntries(cheats.map((c) => [c.name, c.accepted])),
      pairs: Object.fromEntries(pairs.map((p) => [`${p.a}~${p.b}`, [p.maxAbsDiff, p.differing, p.argmaxFlips, p.rejected]])),
      ...(gen.length
        ? {
            generation: {
              jobs: o.genJobs,
              tokens: o.genTokens,
              temperature: o.temperature,
              greedyDifferingJobs: gen.reduce((n, p) => n + p.greedyDiffering!, 0),
              sampledDifferingJobs: gen.reduce((n, p) => n + p.sampledDiffering!, 0),
              pairJobs: gen.reduce((n, p) => n + p.greedyJobs!, 0),
              minSampledMargin: margins.length ? Math.min(...margins) : null,
              sampledMarginsBelow: { '1e-6': margins.filter((m) => m < 1e-6).length, '1e-5': margins.filter((m) => m < 1e-5).length, '1e-4': margins.filter((m) => m < 1e-4).length, of: margins.length },
            },
          }
        : {}),
    };
    out.push({ model, variant, sha256: v.sha256, tolerance, pairs, summary });
  }
  return {
    createdAt: new Date().toISOString(),
    host: `${process.platform}/${process.arch} ${hostCpuModel()}`,
    node: process.version,
    onnxruntimeNode: manifest.onnxruntimeNode,
    cpus,
    options: o,
    variants: out,
    seconds: (Date.now() - t0) / 1000,
  };
}

function hostCpuModel(): string {
  return (osCpus()[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
}

const fmt = (x: number | null | undefined): string => (x == null ? 'n/a' : x === 0 ? '0' : x === Infinity ? '∞' : x < 1e-3 ? x.toExponential(1) : x.toPrecision(3));

/** Markdown: one row per model × variant, one column per CPU pair (max |Δ|; differing/flips/rejected when non-zero), then the verdict. */
export function formatCalibrationTable(report: CalibrationReport): string {
  const pairNames = report.variants[0]?.pairs.map((p) => `${p.a}~${p.b}`) ?? [];
  const lines: string[] = [];
  lines.push(`onnxruntime-node ${report.onnxruntimeNode}, Node ${report.node}, ${report.host}, ${report.createdAt}; CPUs: ${report.cpus.join(', ')} (native = this machine; the others under qemu-x86_64 -cpu); ${report.options.samples} single-step run jobs per variant; charlm ${report.options.genJobs} greedy + ${report.options.genJobs} sampled (T=${report.options.temperature}) jobs × ${report.options.genTokens} tokens; seed ${report.options.seed}; ${report.seconds.toFixed(0)} s.`);
  lines.push('');
  lines.push('Run outputs: max |Δ| of the primary output per CPU pair; `d/f/r` = jobs not bit-identical / argmax flips / comparator rejections, shown when non-zero.');
  lines.push('');
  lines.push(`| model | variant | tolerance | ${pairNames.join(' | ')} | worst honest | honest rejected | nearest cheat (min |Δ|, × tolerance) | cheats accepted |`);
  lines.push(`|---|---|---|${pairNames.map(() => '---|').join('')}---|---|---|---|`);
  for (const v of report.variants) {
    const cells = v.pairs.map((p) => (p.differing ? `${fmt(p.maxAbsDiff)} (${p.differing}/${p.argmaxFlips}/${p.rejected})` : '0'));
    const s = v.summary;
    const acc = Object.values(s.cheatsAccepted).reduce((a, b) => a + b, 0);
    const ratio = v.tolerance ? `${Math.floor(s.nearestCheatMinMaxAbsDiff / v.tolerance)}×` : '';
    lines.push(`| ${v.model} | ${v.variant} | ${fmt(v.tolerance)} | ${cells.join(' | ')} | ${fmt(s.worstHonestMaxAbsDiff)} | ${s.honestRejections}/${s.honestJobs} | ${s.nearestCheat}: ${fmt(s.nearestCheatMinMaxAbsDiff)}, ${ratio} | ${acc}/${Object.keys(s.cheatsAccepted).length * report.options.samples} |`);
  }
  const gens = report.variants.filter((v) => v.summary.generation);
  if (gens.length) {
    lines.push('');
    lines.push('charlm generation: jobs whose tokens differ per CPU pair, greedy / sampled (first differing position); min sampled margin = closest any native draw came to a sampling boundary (probability units).');
    lines.push('');
    lines.push(`| variant | ${pairNames.join(' | ')} | greedy differing | sampled differing | per-token mismatch | min sampled margin | margins < 1e-6 / 1e-5 / 1e-4 |`);
    lines.push(`|---|${pairNames.map(() => '---|').join('')}---|---|---|---|---|`);
    for (const v of gens) {
      const g = v.summary.generation!;
      const cells = v.pairs.map((p) => (p.greedyDiffering || p.sampledDiffering ? `${p.greedyDiffering}/${p.sampledDiffering} (${p.sampledFirstDiff!.join(',')})` : '0/0'));
      const perToken = (g.greedyDifferingJobs + g.sampledDifferingJobs) / (2 * g.pairJobs * g.tokens);
      const b = g.sampledMarginsBelow;
      lines.push(`| ${v.variant} | ${cells.join(' | ')} | ${g.greedyDifferingJobs}/${g.pairJobs} | ${g.sampledDifferingJobs}/${g.pairJobs} | ${fmt(perToken)} | ${fmt(g.minSampledMargin)} | ${b['1e-6']} / ${b['1e-5']} / ${b['1e-4']} of ${b.of} |`);
    }
  }
  return lines.join('\n');
}

/** Stores each variant's cross-CPU summary in the manifest (`variants[v].crossCpu`). */
export function writeCalibrationToManifest(modelsDir: string, report: CalibrationReport): void {
  const path = join(modelsDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  for (const v of report.variants) {
    const entry = manifest.models[v.model]?.variants[v.variant];
    if (entry && entry.sha256 === v.sha256) entry.crossCpu = v.summary;
  }
  writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n');
}

/** Replaces the text between `<!-- calibrate:begin -->` and `<!-- calibrate:end -->` in a Markdown file. */
export function writeCalibrationToDoc(docPath: string, report: CalibrationReport): void {
  const doc = readFileSync(docPath, 'utf8');
  const begin = '<!-- calibrate:begin -->';
  const end = '<!-- calibrate:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new InferenceError('ERR_VALIDATION', `"${docPath}" has no ${begin} … ${end} section to replace`);
  writeFileSync(docPath, doc.slice(0, a + begin.length) + '\n' + formatCalibrationTable(report) + '\n' + doc.slice(b));
}

export interface ModelsCalibrateCommandOptions extends CalibrateOptions {
  json?: boolean;
  /** Write each variant's summary into manifest.json (default true). */
  updateManifest?: boolean;
  docPath?: string;
  out?: (line: string) => void;
}

/** `infermarket models calibrate`: runs {@link calibrate}, prints the tables (or JSON), records them. Returns an exit code. */
export async function modelsCalibrateCommand(opts: ModelsCalibrateCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const report = await calibrate({ ...opts, onProgress: opts.onProgress ?? ((l) => process.stderr.write(l + '\n')) });
  out(opts.json ? JSON.stringify(report, null, 2) : formatCalibrationTable(report));
  const modelsDir = opts.modelsDir ?? DEFAULT_MODELS_DIR;
  if (opts.updateManifest !== false) writeCalibrationToManifest(modelsDir, report);
  if (opts.docPath && existsSync(opts.docPath)) writeCalibrationToDoc(opts.docPath, report);
  else if (opts.docPath) throw new InferenceError('ERR_NOT_FOUND', `--doc "${opts.docPath}" does not exist`);
  const bad = report.variants.filter((v) => v.summary.honestRejections > 0);
  for (const v of bad) process.stderr.write(`warning: ${v.model}/${v.variant}: ${v.summary.honestRejections} honest cross-CPU jobs rejected by its comparator\n`);
  return bad.length ? 1 : 0;
}
