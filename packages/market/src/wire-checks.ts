import { InfermarketError, hashPayload, type Envelope, type JobInput, type JobOutput } from '@infermarket/protocol';

/** Decimal micro-mUSD on the wire → bigint. @throws ERR_VALIDATION naming the field. */
export function parseAmount(field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^-?\d{1,40}$/.test(v)) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be a decimal string of micro-mUSD like "1500000", got ${JSON.stringify(v)?.slice(0, 80)}`, {
      details: { field },
    });
  }
  return BigInt(v);
}

/** The envelope's body as an object with exactly the allowed keys. @throws ERR_VALIDATION naming the field. */
export function bodyOf(env: Envelope, type: string, allowed: readonly string[], required: readonly string[] = allowed): Record<string, unknown> {
  if (env.type !== type) {
    throw new InfermarketError('ERR_VALIDATION', `"envelope.type" must be "${type}", got ${JSON.stringify(env.type)}`, { details: { field: 'envelope.type' } });
  }
  const b = env.body as unknown;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw new InfermarketError('ERR_VALIDATION', '"envelope.body" must be an object', { details: { field: 'envelope.body' } });
  }
  const body = b as Record<string, unknown>;
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      throw new InfermarketError('ERR_VALIDATION', `"envelope.body.${k}" is not a known field; allowed: ${allowed.join(', ')}`, { details: { field: `envelope.body.${k}` } });
    }
  }
  for (const k of required) {
    if (body[k] === undefined) throw new InfermarketError('ERR_VALIDATION', `"envelope.body.${k}" is required`, { details: { field: `envelope.body.${k}` } });
  }
  if (typeof body.nonce !== 'string') throw new InfermarketError('ERR_VALIDATION', '"envelope.body.nonce" must be a string', { details: { field: 'envelope.body.nonce' } });
  if (!Number.isSafeInteger(body.expiresAtMs)) {
    throw new InfermarketError('ERR_VALIDATION', '"envelope.body.expiresAtMs" must be an integer time in ms', { details: { field: 'envelope.body.expiresAtMs' } });
  }
  return body;
}

/** Check that a payload hashes to the hash the signed body claims. @throws ERR_VALIDATION naming the field. */
export function checkPayloadHash(field: string, payload: JobInput | JobOutput, claimed: unknown, claimedField: string): void {
  const h = hashPayload(payload);
  if (h !== claimed) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" hashes to ${h}, but "${claimedField}" says ${JSON.stringify(claimed)}`, { details: { field } });
  }
}

/** Shape check of a job output (before hashing it). @throws ERR_VALIDATION naming the field. */
export function checkOutput(o: unknown): JobOutput {
  const bad = (msg: string): never => {
    throw new InfermarketError('ERR_VALIDATION', msg, { details: { field: 'output' } });
  };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return bad('"output" must be an object');
  const out = o as Record<string, unknown>;
  // exactly the known keys, at every level: nothing unchecked reaches the canonical encoder or the log
  const only = (v: Record<string, unknown>, field: string, keys: readonly string[]): void => {
    for (const k of Object.keys(v)) if (!keys.includes(k)) bad(`"${field}.${k.slice(0, 40)}" is not a known field; allowed: ${keys.join(', ')}`);
  };
  if (out.kind === 'tensor') {
    only(out, 'output', ['kind', 'tensor']);
    if (typeof out.tensor === 'object' && out.tensor !== null) only(out.tensor as Record<string, unknown>, 'output.tensor', ['dtype', 'dims', 'data']);
  } else if (out.kind === 'tokens') only(out, 'output', ['kind', 'tokens', 'text']);
  else if (out.kind === 'sealed') {
    only(out, 'output', ['kind', 'sealed']);
    const b = out.sealed as Record<string, unknown> | null;
    if (typeof b === 'object' && b !== null) {
      only(b, 'output.sealed', ['to', 'from', 'nonce', 'ciphertext']);
      if (!Object.values(b).every((x) => typeof x === 'string')) bad('"output.sealed" fields must be strings');
    }
  }
  if (out.kind === 'tensor') {
    const t = out.tensor as Record<string, unknown> | undefined;
    if (!t || typeof t.dtype !== 'string' || t.dtype.length > 16 || !Array.isArray(t.dims) || t.dims.length > 8 || !t.dims.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || typeof t.data !== 'string') {
      bad('"output.tensor" must have "dtype", integer "dims" and base64 "data"');
    }
  } else if (out.kind === 'tokens') {
    if (!Array.isArray(out.tokens) || out.tokens.length > 4_096 || !out.tokens.every((x) => Number.isSafeInteger(x)) || typeof out.text !== 'string') bad('"output.tokens" must be at most 4096 integers and "output.text" a string');
  } else if (out.kind === 'sealed') {
    if (typeof out.sealed !== 'object' || out.sealed === null) bad('"output.sealed" must be a sealed box');
  } else {
    bad(`"output.kind" must be "tensor", "tokens" or "sealed", got ${JSON.stringify(out.kind)}`);
  }
  return o as JobOutput;
}
