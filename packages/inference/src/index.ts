/**
 * @infermarket/inference — models and the ONNX runtime miners and validators share.
 *
 * - {@link createRuntime}: sha256-checked sessions, EP choice with explicit fallback, threads, `run`,
 *   `runBatch`, `reference`, streaming `generate` for the char LM, named intermediate outputs.
 * - {@link buildModels}: deterministic in-repo training, quantization (fp16/int8/int4) and ONNX encoding.
 * - {@link evalModels} / {@link formatEvalTable}: quantized-vs-fp32 table and comparator calibration.
 * - {@link sampleInput}: deterministic sample job inputs for load generators and the simulator.
 * See docs/models.md.
 */
export { createRuntime, readVerifiedModel, CUDA_INSTALL_HINT } from './runtime.js';
export type {
  Runtime,
  RuntimeOptions,
  RunOptions,
  RunResult,
  GenerateRequest,
  GeneratedToken,
  GenerateResult,
  SessionInfo,
  ExecutionProvider,
} from './runtime.js';
export { InferenceError, INFERENCE_ERROR_CODES } from './errors.js';
export type { InferenceErrorCode } from './errors.js';
export { loadManifest, MODEL_IDS } from './manifest.js';
export type { Manifest, ModelEntry, ModelId, VariantEntry, IoSpec, PinnedSessionOptions, ManifestComparator } from './manifest.js';
export { VARIANTS } from './graph-builder.js';
export type { Variant } from './graph-builder.js';
export { float32Tensor, int32Tensor, validateInputs } from './tensor.js';
export type { Tensor, ModelInput } from './tensor.js';
export { buildModels, DEFAULT_BUILD_CONFIG, SMALL_DIGITS_CONFIG, sha256Hex } from './build-models.js';
export type { BuildModelsOptions } from './build-models.js';
export { evalModels, formatEvalTable } from './eval.js';
export type { EvalOptions, EvalReport, VariantEval, Calibration, CheatResult, GenerationCheck } from './eval.js';
export { sampleInput, CHARLM_PROMPTS } from './sample-input.js';
export type { SampleInput } from './sample-input.js';
export { sampleToken, sampleTokenWithMargin } from './sampler.js';
export type { SampledToken } from './sampler.js';
export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
export { encodeChars, decodeChars, CHARLM_VOCAB, CHARLM_BOS } from './charlm-vocab.js';
export { DEFAULT_MODELS_DIR } from './paths.js';
export { modelsBuildCommand, modelsEvalCommand, writeEvalToManifest, writeEvalToDoc } from './cli-commands.js';
export type { ModelsBuildCommandOptions, ModelsEvalCommandOptions } from './cli-commands.js';

export {
  calibrate,
  formatCalibrationTable,
  writeCalibrationToManifest,
  writeCalibrationToDoc,
  modelsCalibrateCommand,
  emulatedCommand,
  findQemu,
  QEMU_APT_PACKAGE,
  DEFAULT_CALIBRATION_CPUS,
  DEFAULT_CALIBRATION,
  CPUS_WITHOUT_FMA,
} from './calibrate.js';
export type { CalibrateOptions, CalibrationReport, VariantCalibration, PairStats, ModelsCalibrateCommandOptions } from './calibrate.js';
export type { CrossCpuCalibration } from './manifest.js';

export { tensorHash, wireTensorHash, traceBoundaryHashes, createSegmentRunner, segmentBoundaries } from './segments.js';
export { boundariesAgree, refereeVote } from './bisection-parties.js';
export {
  calibrateLayers,
  formatLayerCalibrationTable,
  writeLayerTolerancesToManifest,
  modelsCalibrateLayersCommand,
  layerToleranceOf,
  assertLayerTolerances,
  layerToleranceBetween,
  tracedModels,
  LAYER_TOLERANCE_MIN_MARGIN,
} from './layer-tolerances.js';
export type { LayerCalibrateOptions, LayerCalibration, LayerCalibrationReport } from './layer-tolerances.js';
export type { LayerTolerance } from './manifest.js';
export { extractSegment } from './onnx-extract.js';
export type { SegmentRunner } from './segments.js';

export const PACKAGE = '@infermarket/inference';
