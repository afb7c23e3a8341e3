import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InfermarketError, fromHex, keyPairFromSeed, seedFromLabel, toHex, type KeyPair } from '@infermarket/protocol';

/** Whether process `pid` is alive (a signal-0 probe; EPERM means alive but not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const held = new Set<string>();
let exitHooked = false;

/**
 * Take `<keyFile>.lock` for this process (it holds the pid), so two processes never share one key (they
 * would log each other out of the market forever). A lock whose pid is dead is stale and taken over. The
 * lock is removed when this process exits.
 * @throws InfermarketError `ERR_KEY_IN_USE` naming the process holding the key and how to choose another.
 */
export function lockKeyFile(keyFile: string): { lockFile: string; release: () => void } {
  const lockFile = `${keyFile}.lock`;
  const release = (): void => {
    held.delete(lockFile);
    try {
      if (Number(JSON.parse(readFileSync(lockFile, 'utf8')).pid) === process.pid) unlinkSync(lockFile);
    } catch {
      // already gone
    }
  };
  if (held.has(lockFile)) return { lockFile, release };
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${JSON.stringify({ pid: process.pid, keyFile, since: new Date().toISOString() })}\n`, { flag: 'wx', mode: 0o600 });
      held.add(lockFile);
      if (!exitHooked) {
        exitHooked = true;
        process.on('exit', () => {
          for (const f of [...held]) {
            try {
              if (Number(JSON.parse(readFileSync(f, 'utf8')).pid) === process.pid) unlinkSync(f);
            } catch {
              // already gone
            }
          }
        });
      }
      return { lockFile, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    try {
      pid = Number(JSON.parse(readFileSync(lockFile, 'utf8')).pid);
    } catch {
      // unreadable or half-written: treat as stale only if it stays so
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new InfermarketError(
        'ERR_KEY_IN_USE',
        `key file ${keyFile} is in use by process ${pid} (lock ${lockFile}); two nodes with one key log each other out. Stop process ${pid}, or give this one its own key: "--key-file <another file>"`,
        { details: { field: '--key-file', pid } },
      );
    }
    // stale (dead pid, or our own pid from an earlier run): take it over
    try {
      unlinkSync(lockFile);
    } catch {
      // someone else took it over first; retry
    }
  }
  throw new InfermarketError('ERR_KEY_IN_USE', `could not take the lock ${lockFile} for key file ${keyFile}; choose another with "--key-file <another file>"`, { details: { field: '--key-file' } });
}

/**
 * A node's or client's key: from `--key-seed LABEL` (reproducible; testnets only), else from a key file,
 * which is created with a fresh random key on first use (mode 0600). A key file is locked for this
 * process (`lockKeyFile`) before it is read or created.
 * @throws InfermarketError `ERR_VALIDATION` when the key file is not a 32-byte hex seed; `ERR_KEY_IN_USE`
 *   when another running process holds the key file.
 */
export function loadKey(options: { keySeed?: string; keyFile?: string; defaultFile: string }): { keys: KeyPair; source: string } {
  if (options.keySeed) return { keys: keyPairFromSeed(seedFromLabel(options.keySeed)), source: `seed label "${options.keySeed}"` };
  const file = options.keyFile ?? options.defaultFile;
  lockKeyFile(file);
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
