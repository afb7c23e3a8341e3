import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Variant } from './graph-builder.js';
import { InferenceError } from './errors.js';

/** Model ids shipped by this repo. */
export type ModelId = 'digits' | 'charlm' | 'heavy' | 'deep';
export const MODEL_IDS: readonly ModelId[] = ['digits', 'charlm', 'heavy', 'deep'];

/** Tensor element types used at model boundaries. */
export type IoDtype = 'float32' | 'int32';

/** One graph input or output; a string dim is symbolic (`'batch'`). */
export interface IoSpec {
  name: string;
  dtype: IoDtype;
  shape: (number | string)[];
  /** Inclusive value range for integer inputs (token ids). */
  range?: [number, number];
}

/**
 * Comparator spec as JSON data (mirrors `ComparatorSpec` in `@infermarket/protocol` comparators).
 * Kept structural here so the manifest stays plain JSON.
 */
export type ManifestComparator =
  | { kind: 'exact' }
  | { kind: 'argmax-maxabs'; tolerance: number }
  | { kind: 'topk'; k: number; tolerance?: number }
  | { kind: 'tokens' };

/** Session options every honest miner and validator must use for this model (pinned). */
export interface PinnedSessionOptions {
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** `null`: not pinned (results were measured bit-identical across thread counts). */
  intraOpNumThreads: number | null;
  extra: Record<string, string>;
}

export interface VariantEntry {
  file: string;
  sha256: string;
  sizeBytes: number;
  /** How validators compare the primary output of `run` jobs. */
  comparator: ManifestComparator;
  /** How validators compare `generate` jobs (charlm only). */
  generationComparator?: ManifestComparator;
  notes: string;
  eval?: Record<string, number | boolean | string | null>;
  /** Honest divergence across CPU tiers (`infermarket models calibrate`), for these bytes (`sha256`). */
  crossCpu?: CrossCpuCalibration;
  /**
   * Tolerances of the hidden layer boundaries for the bisection game (`infermarket models calibrate --layers`),
   * one per `layerBoundaries` entry, measured on these bytes. Required for a model that commits a layer trace.
   */
  layerTolerances?: LayerTolerance[];
}

/** One hidden boundary's tolerance (max |Δ|) with the measurements it sits between. */
export interface LayerTolerance {
  boundary: string;
  tolerance: number;
  honestMaxAbsDiff: number;
  nearestCheat: string;
  nearestCheatMinMaxAbsDiff: number;
  measuredAt?: string;
}

/** Cross-CPU calibration of one variant; pairs are `"<cpuA>~<cpuB>": [max |Δ|, jobs not bit-identical, argmax flips, rejections]`. */
export interface CrossCpuCalibration {
  measuredAt: string;
  sha256: string;
  cpus: string[];
  samples: number;
  worstHonestMaxAbsDiff: number;
  honestDifferingJobs: number;
  honestArgmaxFlips: number;
  honestRejections: number;
  honestJobs: number;
  nearestCheat: string;
  nearestCheatMinMaxAbsDiff: number;
  cheatsAccepted: Record<string, number>;
  pairs: Record<string, [number, number, number, number]>;
  generation?: {
    jobs: number;
    tokens: number;
    temperature: number;
    greedyDifferingJobs: number;
    sampledDifferingJobs: number;
    /** Generation jobs compared over all pairs (each greedy and sampled). */
    pairJobs: number;
    minSampledMargin: number | null;
    sampledMarginsBelow: Record<'1e-6' | '1e-5' | '1e-4' | 'of', number>;
  };
}

export interface ModelEntry {
  description: string;
  kind: 'classifier' | 'charlm' | 'dense';
  /** false: not in git (too big); rebuilt from `build` on first load and checked against sha256. */
  committed: boolean;
  build: Record<string, unknown>;
  inputs: IoSpec[];
  outputs: IoSpec[];
  primaryOutput: string;
  /** Named intermediate outputs (layer boundaries), fetched only on request. */
  layerBoundaries: string[];
  sessionOptions: PinnedSessionOptions;
  variants: Record<Variant, VariantEntry>;
  data?: Record<string, unknown>;
}

export interface Manifest {
  schemaVersion: 1;
  onnxruntimeNode: string;
  irVersion: number;
  opset: number;
  seed: number;
  models: Record<ModelId, ModelEntry>;
  /** sha256 of a small/fast build config, pinned so tests can check reproducibility in seconds. */
  smallBuild?: { config: Record<string, unknown>; sha256: Record<string, string> };
  eval?: { updatedAt: string; calibration?: unknown };
}

/** Reads `manifest.json` from a models directory. @throws InferenceError `ERR_NOT_FOUND` (missing) or `ERR_VALIDATION` (not a manifest) */
export function loadManifest(modelsDir: string): Manifest {
  const path = join(modelsDir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InferenceError('ERR_NOT_FOUND', `cannot read model manifest "${path}"; run "infermarket models build" first`, { cause });
  }
  const m = JSON.parse(text) as Manifest;
  if (m.schemaVersion !== 1 || typeof m.models !== 'object') {
    throw new InferenceError('ERR_VALIDATION', `"${path}" is not a schemaVersion 1 infermarket model manifest`);
  }
  return m;
}
