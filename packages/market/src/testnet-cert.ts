import { createPrivateKey, createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';

/**
 * A self-signed certificate for a testnet market (`infermarket market --tls`), made with Node's crypto
 * only: an ECDSA P-256 key and a minimal X.509 v3 certificate (DER written here) valid for 127.0.0.1,
 * ::1 and localhost plus any extra names. It is its own CA (basicConstraints CA:TRUE), so clients trust
 * exactly it with `--ca FILE` / the SDK's `ca` option, never by turning verification off.
 */

/** PEM key and certificate of a testnet market, and the certificate's SHA-256 fingerprint. */
export interface TestnetCert {
  keyPem: string;
  certPem: string;
  fingerprint256: string;
}

// ---- DER ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const oid = (dotted: string): Buffer => {
  const p = dotted.split('.').map(Number);
  const out = [40 * p[0]! + p[1]!];
  for (const n of p.slice(2)) {
    const b: number[] = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
};
const int = (b: Buffer): Buffer => tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const time = (d: Date): Buffer => tlv(0x17, Buffer.from(`${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`, 'ascii')); // UTCTime
const explicit = (n: number, body: Buffer): Buffer => tlv(0xa0 + n, body);

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.flatMap((g) => [(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(ip.split('.').map(Number));
}

/**
 * Generate a testnet certificate.
 * @param names extra DNS names or IP addresses the market is reached at (e.g. a LAN address).
 * @param validDays how long it stays valid (default 30).
 */
export function createTestnetCert(options: { names?: string[]; validDays?: number; now?: Date } = {}): TestnetCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 30) * 86_400_000);
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...(options.names ?? [])])];
  const san = seq(...names.map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii')))));
  const name = seq(set(seq(oid('2.5.4.3'), utf8('infermarket testnet market'))));
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const skid = createHash('sha1').update(spki).digest();
  const extensions = explicit(
    3,
    seq(
      seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))), // basicConstraints: critical, CA
      seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x02, 0x84])))), // keyUsage: digitalSignature, keyCertSign
      seq(oid('2.5.29.37'), tlv(0x04, seq(oid('1.3.6.1.5.5.7.3.1')))), // extKeyUsage: serverAuth
      seq(oid('2.5.29.14'), tlv(0x04, tlv(0x04, skid))), // subjectKeyIdentifier
      seq(oid('2.5.29.17'), tlv(0x04, san)), // subjectAltName
    ),
  );
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = seq(explicit(0, int(Buffer.from([2]))), int(serial), ecdsaSha256, name, seq(time(notBefore), time(notAfter)), name, spki, extensions);
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  const keyPem = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { keyPem, certPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}
