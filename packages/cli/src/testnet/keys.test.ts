import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfermarketError } from '@infermarket/protocol';
import { loadKey, lockKeyFile } from './keys.js';
import { fileURLToPath } from 'node:url';

/** The built node entry (tests run from src; the processes run the build). */
const NODE_MAIN = fileURLToPath(new URL('../../dist/testnet/node-main.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'infermarket-keylock-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A real miner process on `keyFile` (no market listens: it keeps retrying, holding its key). */
function miner(keyFile: string): { child: ChildProcess; stderr: () => string; exited: Promise<number | null>; started: Promise<void> } {
  const child = spawn(process.execPath, [NODE_MAIN, 'miner', '--market', 'ws://127.0.0.1:9', '--model', 'digits', '--key-file', keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  let onStart: () => void = () => {};
  const started = new Promise<void>((r) => (onStart = r));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    // after its first failed connection the process is past start-up (its signal handlers are installed)
    if (/^miner im/m.test(err) && err.includes('"event":"disconnected"')) onStart();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exited, started };
}

describe('key file lock', () => {
  it('a second process on the same key file is refused, naming the holder pid and --key-file; a dead holder\'s lock is taken over', async () => {
    const keyFile = join(dir, 'miner-key.json');
    const first = miner(keyFile);
    await Promise.race([first.started, first.exited.then(() => Promise.reject(new Error(`first miner exited: ${first.stderr()}`)))]);
    expect(JSON.parse(readFileSync(`${keyFile}.lock`, 'utf8')).pid).toBe(first.child.pid);

    const second = miner(keyFile);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain('ERR_KEY_IN_USE');
    expect(second.stderr()).toContain(`in use by process ${first.child.pid}`);
    expect(second.stderr()).toContain('--key-file');
    // the refused process changed nothing: the key and the lock are the first one's
    expect(JSON.parse(readFileSync(`${keyFile}.lock`, 'utf8')).pid).toBe(first.child.pid);

    // a crash (SIGKILL) leaves a stale lock: the next process takes it over
    first.child.kill('SIGKILL');
    await first.exited;
    const third = miner(keyFile);
    await Promise.race([third.started, third.exited.then(() => Promise.reject(new Error(`third miner exited: ${third.stderr()}`)))]);
    expect(JSON.parse(readFileSync(`${keyFile}.lock`, 'utf8')).pid).toBe(third.child.pid);
    // same key as before (the key file is reused, not replaced)
    expect(third.stderr().match(/^miner (im\w+)/m)?.[1]).toBe(first.stderr().match(/^miner (im\w+)/m)?.[1]);
    // a clean stop removes the lock
    third.child.kill('SIGTERM');
    const code = await third.exited;
    expect(existsSync(`${keyFile}.lock`), `${code} ${third.stderr()}`).toBe(false);
  }, 60_000);

  it('in-process: a lock held by a live pid is ERR_KEY_IN_USE; a dead pid\'s lock is taken over', () => {
    const keyFile = join(dir, 'other-key.json');
    writeFileSync(`${keyFile}.lock`, JSON.stringify({ pid: process.ppid }));
    let err: unknown;
    try {
      loadKey({ keyFile, defaultFile: keyFile });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InfermarketError);
    expect((err as InfermarketError).code).toBe('ERR_KEY_IN_USE');
    expect(existsSync(keyFile)).toBe(false);
    // a pid that cannot be alive (beyond pid_max)
    writeFileSync(`${keyFile}.lock`, JSON.stringify({ pid: 2 ** 30 }));
    const { keys } = loadKey({ keyFile, defaultFile: keyFile });
    expect(keys.address).toMatch(/^im/);
    expect(JSON.parse(readFileSync(`${keyFile}.lock`, 'utf8')).pid).toBe(process.pid);
    lockKeyFile(keyFile).release();
    expect(existsSync(`${keyFile}.lock`)).toBe(false);
  });
});
