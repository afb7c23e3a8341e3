import { describe, expect, it } from 'vitest';
import { InfermarketError } from '@infermarket/protocol';
import { outputsAgree } from './compare.js';
import { loadModelSpecs, type ModelSpec } from './models.js';

const t = (xs: number[]) => ({ kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, xs.length], data: Buffer.from(new Float32Array(xs).buffer).toString('base64') } });

describe('outputsAgree (market)', () => {
  const digits = loadModelSpecs().specs.get('digits')!;
  it('a malformed comparator spec is ERR_BAD_COMPARATOR, never a fallback to hash equality', () => {
    const broken: ModelSpec = { ...digits, comparator: { kind: 'argmax-maxabs', tolerance: 'loose' } };
    let err: unknown;
    try {
      outputsAgree(broken, t([0.1, 0.9, 0.2]), t([0.1001, 0.9, 0.2]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InfermarketError);
    expect((err as InfermarketError).code).toBe('ERR_BAD_COMPARATOR');
    expect((err as InfermarketError).message).toMatch(/"tolerance" must be a finite number >= 0, got "loose"/);
    // and a per-variant spec is what decides for a miner claiming that variant
    const perVariant: ModelSpec = { ...digits, variantComparators: { int4: { comparator: { kind: 'nope' }, generationComparator: null } } };
    expect(() => outputsAgree(perVariant, t([0.1]), t([0.1]), 'int4')).toThrow(/"kind" must be one of/);
    expect(outputsAgree(perVariant, t([0.1, 0.9]), t([0.1, 0.9]), 'int8')).toBe(true);
  });
});
