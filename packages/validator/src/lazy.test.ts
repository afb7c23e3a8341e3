import { describe, expect, it } from 'vitest';
import { cheapClaim } from './lazy.js';

const tensorIn = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, 784], data: '' } };
const promptIn = { kind: 'prompt' as const, prompt: 'The ', maxTokens: 5, temperature: 0, seed: 0 };

describe('cheapClaim (lazy validator)', () => {
  it('claims zeros of the output shape before it has any real output', () => {
    const o = cheapClaim(tensorIn, null, [1, 10]);
    expect(o.kind === 'tensor' && o.tensor.dims).toEqual([1, 10]);
    const bytes = o.kind === 'tensor' ? Buffer.from(o.tensor.data, 'base64') : Buffer.alloc(1, 1);
    expect(bytes.byteLength).toBe(40);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });
  it('repeats its last real output of the same kind afterwards', () => {
    const last = { kind: 'tokens' as const, tokens: [5, 6], text: '$%' };
    expect(cheapClaim(promptIn, last, [1])).toBe(last);
    expect(cheapClaim(tensorIn, last, [1, 10]).kind).toBe('tensor');
  });
  it('claims newlines for a generation job', () => {
    expect(cheapClaim(promptIn, null, [1])).toEqual({ kind: 'tokens', tokens: [0, 0, 0, 0, 0], text: '\n\n\n\n\n' });
  });
});
