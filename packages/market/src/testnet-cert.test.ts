import { createServer, request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestnetCert } from './testnet-cert.js';

function get(port: number, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('testnet certificate', () => {
  it('is a self-signed X.509 certificate for 127.0.0.1 and localhost that verifies with its own key', () => {
    const c = createTestnetCert({ names: ['10.0.0.7'] });
    const x = new X509Certificate(c.certPem);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.fingerprint256).toBe(c.fingerprint256);
  });

  it('serves HTTPS that a client trusting exactly it accepts, and that the default trust store refuses', async () => {
    const c = createTestnetCert();
    const server = createServer({ key: c.keyPem, cert: c.certPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await get(port, c.certPem)).toBe('ok');
      await expect(get(port, undefined)).rejects.toThrow(/self[- ]signed/i);
      // another testnet's certificate does not vouch for this one
      await expect(get(port, createTestnetCert().certPem)).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});
