import { InfermarketError } from '@infermarket/protocol';
import type { ErrorCode } from '@infermarket/protocol';

/** The protocol error codes the inference runtime raises (see the table in docs/models.md). */
export const INFERENCE_ERROR_CODES = [
  'ERR_NOT_FOUND',
  'ERR_UNKNOWN_MODEL',
  'ERR_MODEL_TAMPERED',
  'ERR_BAD_INPUT',
  'ERR_EP_UNAVAILABLE',
  'ERR_VALIDATION',
] as const satisfies readonly ErrorCode[];
export type InferenceErrorCode = (typeof INFERENCE_ERROR_CODES)[number];

/** A coded `InfermarketError` raised by the inference runtime (callers can catch either class). */
export class InferenceError extends InfermarketError {
  constructor(code: InferenceErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, opts);
    this.name = 'InferenceError';
  }
}
