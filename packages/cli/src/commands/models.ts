import type { Command } from 'commander';
import { registerCalibrate } from './models-calibrate.js';
import { MODEL_IDS, modelsBuildCommand, modelsEvalCommand, type ModelId } from '@infermarket/inference';

function parseModels(list: string | undefined): ModelId[] | undefined {
  if (!list) return undefined;
  const ids = list.split(',').map((s) => s.trim());
  for (const id of ids) {
    if (!(MODEL_IDS as readonly string[]).includes(id)) throw new Error(`--models: unknown model "${id}"; known: ${MODEL_IDS.join(', ')}`);
  }
  return ids as ModelId[];
}

/** Registers `infermarket models build` and `infermarket models eval`. */
export function register(program: Command): void {
  const models = program.command('models').description('Build, quantize and evaluate the ONNX models (digits, charlm, heavy, deep).');
  models
    .command('build')
    .description('Train and quantize every model deterministically from a seed; write models/ and models/manifest.json.')
    .option('--out <dir>', 'output directory (default: the repo models/)')
    .option('--seed <n>', 'build seed (default: the manifest seed)', (v) => Number.parseInt(v, 10))
    .option('--models <ids>', `comma-separated subset of ${MODEL_IDS.join(', ')}`)
    .action(async (opts: { out?: string; seed?: number; models?: string }) => {
      process.exitCode = await modelsBuildCommand({ outDir: opts.out, seed: opts.seed, only: parseModels(opts.models) });
    });
  models
    .command('eval')
    .description('Quantized vs fp32: size, load time, latency, quality, agreement, determinism flags, tolerance calibration. Prints only; --write stores the numbers in manifest.json.')
    .option('--models-dir <dir>', 'directory with manifest.json (default: the repo models/)')
    .option('--models <ids>', `comma-separated subset of ${MODEL_IDS.join(', ')}`)
    .option('--quick', 'fewer samples (a smoke run)', false)
    .option('--write', 'write the numbers into <models-dir>/manifest.json (the simulator\'s cost model reads them); without it nothing is written', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (opts: { modelsDir?: string; models?: string; quick: boolean; write: boolean; json: boolean }) => {
      process.exitCode = await modelsEvalCommand({ modelsDir: opts.modelsDir, models: parseModels(opts.models), quick: opts.quick, json: opts.json, updateManifest: opts.write });
    });
  registerCalibrate(models);
}
