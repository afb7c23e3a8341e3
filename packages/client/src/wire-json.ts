import { InfermarketError, type ErrorCode, ERROR_CODES } from '@infermarket/protocol';

/** JSON text of a value with bigints as decimal strings (amounts on the wire are decimal strings). */
export function toWireJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Options for one HTTP call to the market. */
export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Abort after this long (default 10 s). */
  timeoutMs?: number;
}

function asErrorCode(code: unknown): ErrorCode {
  return typeof code === 'string' && code in ERROR_CODES ? (code as ErrorCode) : 'ERR_INTERNAL';
}

/**
 * One JSON request to the market. A 4xx/5xx answer becomes an `InfermarketError` with the market's code
 * and message (`details.status` holds the HTTP status).
 * @throws InfermarketError with the code the market returned, or `ERR_INTERNAL` when unreachable.
 */
export async function requestJson<T>(baseUrl: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(path, baseUrl);
  const init: RequestInit = { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) };
  if (options.body !== undefined) {
    init.body = toWireJson(options.body);
    init.headers = { 'content-type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (cause) {
    throw new InfermarketError('ERR_INTERNAL', `cannot reach the market at ${url.origin}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status} from ${url.pathname}: ${text.slice(0, 200)}`;
    throw new InfermarketError(asErrorCode(err?.code), message, { details: { status: res.status, code: err?.code } });
  }
  if (json === undefined) throw new InfermarketError('ERR_INTERNAL', `${url.pathname} answered ${res.status} with no JSON body`);
  return json as T;
}
