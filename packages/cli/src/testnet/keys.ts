import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InfermarketError, fromHex, keyPairFromSeed, seedFromLabel, toHex, type KeyPair } from '@infermarket/protocol';

/**
 * A node's or client's key: from `--key-seed LABEL` (reproducible; testnets only), else from a key file,
 * which is created with a fresh random key on first use (mode 0600).
 * @throws InfermarketError `ERR_VALIDATION` when the key file is not a 32-byte hex seed.
 */
export function loadKey(options: { keySeed?: string; keyFile?: string; defaultFile: string }): { keys: KeyPair; source: string } {
  if (options.keySeed) return { keys: keyPairFromSeed(seedFromLabel(options.keySeed)), source: `seed label "${options.keySeed}"` };
  const file = options.keyFile ?? options.defaultFile;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    let hex = text;
    try {
      const j = JSON.parse(text) as { secretKey?: string };
      if (typeof j.secretKey === 'string') hex = j.secretKey;
    } catch {
      // plain hex file
    }
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new InfermarketError('ERR_VALIDATION', `"--key-file" ${file} must hold a 32-byte hex seed (or {"secretKey": "<hex>"})`);
    return { keys: keyPairFromSeed(fromHex(hex.toLowerCase())), source: `key file ${file}` };
  }
  const seed = new Uint8Array(randomBytes(32));
  const keys = keyPairFromSeed(seed);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ address: keys.address, publicKey: toHex(keys.publicKey), secretKey: toHex(seed) }, null, 2)}\n`, { mode: 0o600 });
  return { keys, source: `new key saved to ${file}` };
}

/** Parse a positive decimal amount option. @throws InfermarketError `ERR_VALIDATION` naming the option. */
export function parseAmount(name: string, v: string | undefined, fallback: bigint): bigint {
  if (v === undefined) return fallback;
  if (!/^\d{1,30}$/.test(v) || BigInt(v) <= 0n) throw new InfermarketError('ERR_VALIDATION', `"${name}" must be a positive integer amount in micro-mUSD, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

/** Parse a number option within bounds. @throws InfermarketError `ERR_VALIDATION` naming the option. */
export function parseNumber(name: string, v: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InfermarketError('ERR_VALIDATION', `"${name}" must be a number between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Split a comma list. */
export function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
