/** Stable error codes raised by the inference runtime. */
export const INFERENCE_ERROR_CODES = [
  'ERR_MANIFEST',
  'ERR_UNKNOWN_MODEL',
  'ERR_MODEL_MISSING',
  'ERR_MODEL_TAMPERED',
  'ERR_BAD_INPUT',
  'ERR_EP_UNAVAILABLE',
  'ERR_BAD_OPTION',
] as const;
export type InferenceErrorCode = (typeof INFERENCE_ERROR_CODES)[number];

/** Error with a stable `code` (see docs/models.md for the table). */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  readonly code: InferenceErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: InferenceErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
  }
}
