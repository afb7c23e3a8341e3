import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModels } from './build-models.js';
import { evalModels, formatEvalTable } from './eval.js';
import type { EvalReport } from './eval.js';
import type { Manifest, ModelId } from './manifest.js';
import { DEFAULT_MODELS_DIR } from './paths.js';

export interface ModelsBuildCommandOptions {
  /** Output directory (default: the repo's models/). */
  outDir?: string;
  seed?: number;
  only?: ModelId[];
  /** stdout writer (default process.stdout). */
  out?: (line: string) => void;
  /** progress writer (default process.stderr). */
  progress?: (line: string) => void;
}

/** `infermarket models build`: trains, quantizes and writes every model + manifest. Returns an exit code. */
export async function modelsBuildCommand(opts: ModelsBuildCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const progress = opts.progress ?? ((l: string) => process.stderr.write(l + '\n'));
  const outDir = opts.outDir ?? DEFAULT_MODELS_DIR;
  const t0 = Date.now();
  const manifest = await buildModels({ outDir, seed: opts.seed, only: opts.only, onProgress: (l) => progress(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`) });
  out(`wrote ${join(outDir, 'manifest.json')} (seed ${manifest.seed})`);
  out('| model | variant | file | bytes | sha256 |');
  out('|---|---|---|---|---|');
  for (const [id, entry] of Object.entries(manifest.models)) {
    for (const [variant, v] of Object.entries(entry.variants)) out(`| ${id} | ${variant} | ${v.file} | ${v.sizeBytes} | ${v.sha256} |`);
  }
  return 0;
}

export interface ModelsEvalCommandOptions {
  modelsDir?: string;
  models?: ModelId[];
  /** Print the report as JSON instead of Markdown tables. */
  json?: boolean;
  quick?: boolean;
  /**
   * Write the latest numbers into `<modelsDir>/manifest.json` (default false: an eval only prints). The
   * simulator's cost model reads those latencies, so a write changes later simulation results.
   */
  updateManifest?: boolean;
  /** Also replace the table between `<!-- eval:begin -->` and `<!-- eval:end -->` in this Markdown file. */
  docPath?: string;
  out?: (line: string) => void;
  progress?: (line: string) => void;
}

/** Stores the eval numbers per variant in the manifest (`variants[v].eval`, `eval.calibration`). */
export function writeEvalToManifest(modelsDir: string, report: EvalReport): void {
  const path = join(modelsDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  for (const r of report.rows) {
    const v = manifest.models[r.model]?.variants[r.variant];
    if (!v) continue;
    const cal = report.calibration.find((c) => c.model === r.model && c.variant === r.variant);
    v.eval = {
      measuredAt: report.createdAt,
      loadMs: round(r.loadMs),
      p50Batch1Ms: round(r.p50Batch1Ms),
      p50Batch32Ms: round(r.p50Batch32Ms),
      quality: r.quality === null ? null : round(r.quality),
      qualityMetric: r.qualityMetric,
      ...(r.perplexity !== undefined ? { perplexity: round(r.perplexity) } : {}),
      top1AgreementVsFp32: round(r.top1AgreementVsFp32),
      maxAbsDiffVsFp32: round(r.maxAbsDiffVsFp32),
      bitIdenticalThreads: r.bitIdentical.threads,
      bitIdenticalBatch: r.bitIdentical.batch,
      bitIdenticalOptLevel: r.bitIdentical.optLevel,
      honestMaxAbsDiff: cal ? cal.honestMaxAbsDiff : null,
      falsePositiveRate: cal ? cal.falsePositiveRate : null,
      falseNegativeRate: cal ? cal.falseNegativeRate : null,
    };
  }
  manifest.eval = { updatedAt: report.createdAt, calibration: { onnxruntimeNode: report.onnxruntimeNode, node: report.node, cpu: report.cpu } };
  writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * Replaces the text between `<!-- eval:begin -->` and `<!-- eval:end -->` in a Markdown file with the
 * formatted eval table. @throws Error when the markers are missing.
 */
export function writeEvalToDoc(docPath: string, report: EvalReport): void {
  const doc = readFileSync(docPath, 'utf8');
  const begin = '<!-- eval:begin -->';
  const end = '<!-- eval:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`"${docPath}" has no ${begin} … ${end} section to replace`);
  writeFileSync(docPath, `${doc.slice(0, a + begin.length)}\n${formatEvalTable(report)}\n${doc.slice(b)}`);
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);

/**
 * `infermarket models eval [--json] [--write]`: the quantized-vs-original table and tolerance calibration,
 * printed. Nothing is written into the models directory unless `updateManifest` (`--write`). Returns an exit code.
 */
export async function modelsEvalCommand(opts: ModelsEvalCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const progress = opts.progress ?? ((l: string) => process.stderr.write(l + '\n'));
  const modelsDir = opts.modelsDir ?? DEFAULT_MODELS_DIR;
  const t0 = Date.now();
  const report = await evalModels({ modelsDir, models: opts.models, quick: opts.quick, onProgress: (l) => progress(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`) });
  if (opts.updateManifest === true) {
    writeEvalToManifest(modelsDir, report);
    progress(`wrote the numbers into ${join(modelsDir, 'manifest.json')}`);
  }
  if (opts.docPath) writeEvalToDoc(opts.docPath, report);
  out(opts.json ? JSON.stringify(report, null, 2) : formatEvalTable(report));
  const fp = report.calibration.some((c) => c.falsePositiveRate > 0);
  return fp ? 1 : 0;
}
