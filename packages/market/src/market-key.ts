import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { InfermarketError, keyPairFromSeed, type KeyPair } from '@infermarket/protocol';

/** The market's signing key and where it lives. */
export interface MarketKey {
  keys: KeyPair;
  /** The file holding the 32-byte secret seed (hex), or null for an in-memory database. */
  file: string | null;
  /** True when the key was made now (first start on this file). */
  created: boolean;
}

/** Where the key of a database lives unless `--key-file` says otherwise: beside it, `<db>.market-key`. */
export function defaultMarketKeyFile(dbPath: string): string | null {
  return dbPath === ':memory:' || dbPath === '' ? null : `${dbPath}.market-key`;
}

/**
 * Load the market's signing key from `file`, or make a random one there on first start (owner-only
 * permissions, 0600). Nothing about it derives from public data (a seed, a name, a port): it is 32 bytes
 * from the OS's CSPRNG, so a receipt verifies only if this market signed it. `file` null: a fresh random
 * key that lives as long as the process (an in-memory database).
 * @throws InfermarketError `ERR_VALIDATION` when the file is not 64 hex characters, or is readable by others.
 */
export function loadOrCreateMarketKey(file: string | null): MarketKey {
  if (file === null) return { keys: keyPairFromSeed(new Uint8Array(randomBytes(32))), file: null, created: true };
  if (!existsSync(file)) {
    const hex = randomBytes(32).toString('hex');
    // wx: never overwrite a key another process wrote in between
    writeFileSync(file, `${hex}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return { keys: keyPairFromSeed(Buffer.from(hex, 'hex')), file, created: true };
  }
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new InfermarketError('ERR_VALIDATION', `the market key file "${file}" is readable by others (mode ${mode.toString(8)}); run chmod 600 "${file}"`, { details: { field: 'keyFile' } });
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new InfermarketError('ERR_VALIDATION', `the market key file "${file}" must hold 64 lower-case hex characters (a 32-byte ed25519 seed); it does not`, { details: { field: 'keyFile' } });
  }
  return { keys: keyPairFromSeed(Buffer.from(hex, 'hex')), file, created: false };
}
