import { describe, expect, it } from 'vitest';
import { hashPayload } from '@infermarket/protocol';
import { createLabeledRng } from '@infermarket/agents';
import { httpUrlOf, nodeSocketUrl } from '@infermarket/node-runtime';
import { fakeOutput } from './fake-output.js';

const tensorInput = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, 784], data: '' } };

describe('fakeOutput', () => {
  it('has the shape of the real output and differs from run to run', () => {
    const a = fakeOutput(tensorInput, [1, 10], createLabeledRng(1, 'x'));
    const b = fakeOutput(tensorInput, [1, 10], createLabeledRng(2, 'x'));
    expect(a.kind === 'tensor' && a.tensor.dims).toEqual([1, 10]);
    expect(a.kind === 'tensor' && Buffer.from(a.tensor.data, 'base64').byteLength).toBe(40);
    expect(hashPayload(a)).not.toBe(hashPayload(b));
  });
  it('generates maxTokens printable tokens for a prompt', () => {
    const o = fakeOutput({ kind: 'prompt', prompt: 'a', maxTokens: 12, temperature: 0, seed: 1 }, [1], createLabeledRng(1, 'x'));
    expect(o.kind === 'tokens' && o.tokens.length).toBe(12);
    expect(o.kind === 'tokens' && o.tokens.every((t) => t >= 1 && t <= 95)).toBe(true);
  });
});

describe('market URLs', () => {
  it('derives the node socket and the HTTP base from what the user typed', () => {
    expect(nodeSocketUrl('ws://10.0.0.5:8545')).toBe('ws://10.0.0.5:8545/v1/nodes');
    expect(nodeSocketUrl('http://h:1')).toBe('ws://h:1/v1/nodes');
    expect(nodeSocketUrl('h:2')).toBe('ws://h:2/v1/nodes');
    expect(httpUrlOf('ws://h:3/v1/nodes')).toBe('http://h:3');
  });
});
