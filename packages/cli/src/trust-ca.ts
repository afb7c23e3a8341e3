import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CA_HINT, untrustedCertificateReason } from '@infermarket/client';
import { readCa } from './commands/submit.js';

/**
 * `--ca FILE` for the long-running nodes (`miner`, `validator`): every connection they open (the node
 * WebSocket and each HTTP call) must trust the market's certificate. Node reads extra CAs only at start
 * (`NODE_EXTRA_CA_CERTS`), so the command runs itself again once with that variable set to FILE.
 * @returns `null` in the process that should do the work, or a promise of the child's exit code.
 * @throws ERR_VALIDATION naming `--ca` when FILE is not a readable PEM certificate.
 */
export function runWithCa(caFile: string | undefined): Promise<number> | null {
  if (caFile === undefined) return null;
  const path = resolve(caFile);
  readCa(path);
  if (process.env.NODE_EXTRA_CA_CERTS === path) return null;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: path },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((done) => child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0))));
}

/**
 * Wrap a node's log so that an untrusted market certificate ends the process with an error naming `--ca`,
 * instead of reconnecting forever on `self-signed certificate`.
 */
export function failOnUntrustedCertificate(log: (e: Record<string, unknown>) => void): (e: Record<string, unknown>) => void {
  return (e) => {
    log(e);
    const reason = untrustedCertificateReason(typeof e.msg === 'string' ? e.msg : typeof e.error === 'string' ? e.error : undefined);
    if (reason === null) return;
    process.stderr.write(`error: cannot connect to the market (${reason}): ${CA_HINT}\n`);
    process.exit(1);
  };
}
