import { CA_HINT, untrustedCertificateReason } from './tls-hint.js';
import { request as httpsRequest } from 'node:https';
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
  /** PEM certificate(s) to trust for an https market (a testnet's self-signed one): trusted explicitly, instead of the system store. */
  ca?: string | Buffer;
}

/** fetch's answer shape, over node:https with an explicit CA (fetch cannot take one on Node 20). */
function fetchWithCa(url: URL, init: RequestInit, ca: string | Buffer, timeoutMs: number): Promise<{ ok: boolean; status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method ?? 'GET', headers: (init.headers ?? {}) as Record<string, string>, ca, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, text: async () => text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (typeof init.body === 'string') req.write(init.body);
    req.end();
  });
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
  let res: { ok: boolean; status: number; text(): Promise<string> };
  try {
    res = options.ca !== undefined && url.protocol === 'https:' ? await fetchWithCa(url, init, options.ca, options.timeoutMs ?? 10_000) : await fetch(url, init);
  } catch (cause) {
    const untrusted = untrustedCertificateReason(cause);
    if (untrusted !== null) throw new InfermarketError('ERR_INTERNAL', `cannot reach the market at ${url.origin} (${untrusted}): ${CA_HINT}`, { cause });
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
