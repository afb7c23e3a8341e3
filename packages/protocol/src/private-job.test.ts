import { describe, expect, it } from 'vitest';
import { keyPairFromSeed, seedFromLabel } from './crypto.js';
import { sealEnvelope, type Envelope } from './envelope.js';
import { encryptionKeyPairFromSeed, seal } from './sealed.js';
import { nodeEncryptionKeys, openJobKey, sealJson, unsealJson, verifyRegistration } from './private-job.js';

const node = keyPairFromSeed(seedFromLabel('pj-node'));
const enc = nodeEncryptionKeys(node);
const registration = sealEnvelope(node, 'node.register', { role: 'miner', models: ['digits'], variant: 'int8', region: 'eu-west', encryptionKey: enc.publicKey, nonce: 'n', expiresAtMs: 1 }) as Envelope;
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'none';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('private-job helpers', () => {
  it('derives a stable encryption key per signing key, different per node', () => {
    expect(nodeEncryptionKeys(node).publicKey).toBe(enc.publicKey);
    expect(nodeEncryptionKeys(keyPairFromSeed(seedFromLabel('other'))).publicKey).not.toBe(enc.publicKey);
  });

  it('accepts a genuine registration and returns its signed key and region', () => {
    expect(verifyRegistration(registration, node.address)).toMatchObject({ address: node.address, encryptionKey: enc.publicKey, region: 'eu-west' });
  });

  it('error: a swapped key, another signer or no registration is ERR_KEY_MISMATCH', () => {
    const swapped = { ...registration, body: { ...(registration.body as Record<string, unknown>), encryptionKey: 'cd'.repeat(32) } } as Envelope;
    expect(codeOf(() => verifyRegistration(swapped, node.address))).toBe('ERR_KEY_MISMATCH');
    expect(codeOf(() => verifyRegistration(registration, keyPairFromSeed(seedFromLabel('x')).address))).toBe('ERR_KEY_MISMATCH');
    expect(codeOf(() => verifyRegistration(null, node.address))).toBe('ERR_KEY_MISMATCH');
  });

  it('opens a job key only if it is the key the input was sealed to', () => {
    const seed = new Uint8Array(32).fill(3);
    const job = encryptionKeyPairFromSeed(seed);
    const input = sealJson(job.publicKey, { kind: 'prompt', prompt: 'hi' }, new Uint8Array(56).fill(4));
    const keyBox = seal(enc.publicKey, seed, new Uint8Array(56).fill(5));
    const opened = openJobKey(enc, keyBox, input.to);
    expect(unsealJson<{ prompt: string }>(opened, input).prompt).toBe('hi');
    expect(codeOf(() => openJobKey(enc, seal(enc.publicKey, new Uint8Array(32).fill(6), new Uint8Array(56).fill(7)), input.to))).toBe('ERR_KEY_MISMATCH');
    expect(codeOf(() => openJobKey(nodeEncryptionKeys(keyPairFromSeed(seedFromLabel('y'))), keyBox, input.to))).toBe('ERR_DECRYPT');
  });
});
