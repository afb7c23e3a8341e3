import type { Command } from 'commander';
import { DEFAULT_CALIBRATION, DEFAULT_CALIBRATION_CPUS, MODEL_IDS, VARIANTS, modelsCalibrateCommand, modelsCalibrateLayersCommand, type ModelId, type Variant } from '@infermarket/inference';

function list<T extends string>(flag: string, value: string | undefined, known: readonly T[]): T[] | undefined {
  if (!value) return undefined;
  const ids = value.split(',').map((s) => s.trim());
  for (const id of ids) if (!(known as readonly string[]).includes(id)) throw new Error(`${flag}: unknown "${id}"; known: ${known.join(', ')}`);
  return ids as T[];
}

function int(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

/** Registers `infermarket models calibrate` (cross-CPU calibration under qemu-user). */
export function registerCalibrate(models: Command): void {
  models
    .command('calibrate')
    .description('Run every model variant natively and under emulated CPUs (qemu-user), measure honest divergence per CPU pair, record it in manifest.json.')
    .option('--cpus <list>', `qemu-x86_64 CPU models besides native (needs Debian's qemu-user)`, DEFAULT_CALIBRATION_CPUS.join(','))
    .option('--models-dir <dir>', 'directory with manifest.json (default: the repo models/)')
    .option('--models <ids>', `comma-separated subset of ${MODEL_IDS.join(', ')}`)
    .option('--variants <ids>', `comma-separated subset of ${VARIANTS.join(', ')}`)
    .option('--samples <n>', 'single-step run jobs per model variant', int('--samples'), DEFAULT_CALIBRATION.samples)
    .option('--gen-jobs <n>', 'charlm generation jobs per variant (each greedy and sampled)', int('--gen-jobs'), DEFAULT_CALIBRATION.genJobs)
    .option('--gen-tokens <n>', 'tokens per generation job', int('--gen-tokens'), DEFAULT_CALIBRATION.genTokens)
    .option('--temperature <t>', 'sampling temperature of the sampled jobs', Number, DEFAULT_CALIBRATION.temperature)
    .option('--seed <n>', 'input seed', int('--seed'), DEFAULT_CALIBRATION.seed)
    .option('--concurrency <n>', 'emulated CPUs run at the same time', int('--concurrency'), DEFAULT_CALIBRATION.concurrency)
    .option('--no-update-manifest', 'do not write the numbers into manifest.json')
    .option('--doc <file>', 'also replace the <!-- calibrate:begin/end --> table (with --layers: <!-- layer-tolerances:begin/end -->) in this Markdown file')
    .option('--json', 'print the report as JSON', false)
    .option('--layers', 'instead: per-layer tolerances of the bisection game, natively (threads 1 vs 2, batch N/17/1, optimisation level, one layer re-executed alone), recorded as variants.<v>.layerTolerances', false)
    .action(async (o: { layers: boolean; cpus: string; modelsDir?: string; models?: string; variants?: string; samples: number; genJobs: number; genTokens: number; temperature: number; seed: number; concurrency: number; updateManifest: boolean; doc?: string; json: boolean }) => {
      if (o.layers) {
        process.exitCode = await modelsCalibrateLayersCommand({
          modelsDir: o.modelsDir,
          models: list<ModelId>('--models', o.models, MODEL_IDS),
          variants: list<Variant>('--variants', o.variants, VARIANTS),
          samples: o.samples,
          seed: o.seed,
          updateManifest: o.updateManifest,
          docPath: o.doc,
          json: o.json,
        });
        return;
      }
      process.exitCode = await modelsCalibrateCommand({
        modelsDir: o.modelsDir,
        cpus: o.cpus.split(',').map((s) => s.trim()).filter(Boolean).filter((c) => c !== 'native'),
        models: list<ModelId>('--models', o.models, MODEL_IDS),
        variants: list<Variant>('--variants', o.variants, VARIANTS),
        samples: o.samples,
        genJobs: o.genJobs,
        genTokens: o.genTokens,
        temperature: o.temperature,
        seed: o.seed,
        concurrency: o.concurrency,
        updateManifest: o.updateManifest,
        docPath: o.doc,
        json: o.json,
      });
    });
}
