import { describe, expect, it } from 'vitest';
import { compareJobOutputs, parseComparatorSpec } from './comparators.js';
import { InfermarketError } from './errors.js';

const t = (xs: number[]) => ({ kind: 'tensor' as const, tensor: { dtype: 'float32', dims: [1, xs.length], data: Buffer.from(new Float32Array(xs).buffer).toString('base64') } });
const tok = (xs: number[]) => ({ kind: 'tokens' as const, tokens: xs });

describe('compareJobOutputs: the one comparison that decides a slash', () => {
  it('uses comparator for tensors and generationComparator for tokens, with exact/tokens when absent', () => {
    const specs = { comparator: { kind: 'argmax-maxabs', tolerance: 1e-3 } };
    expect(compareJobOutputs(specs, t([0.1, 0.9]), t([0.1005, 0.9])).match).toBe(true);
    expect(compareJobOutputs(specs, t([0.1, 0.9]), t([0.9, 0.1])).match).toBe(false);
    expect(compareJobOutputs({}, t([0.1, 0.9]), t([0.1005, 0.9])).match).toBe(false);
    expect(compareJobOutputs(specs, tok([1, 2]), tok([1, 2])).match).toBe(true);
    expect(compareJobOutputs(specs, tok([1, 2]), tok([1, 3])).match).toBe(false);
  });
  it('a malformed spec is InfermarketError ERR_BAD_COMPARATOR naming the field', () => {
    for (const [spec, field] of [[{ kind: 'argmax-maxabs' }, 'tolerance'], [{ kind: 'fuzzy' }, 'kind'], [{ kind: 'topk', k: 0 }, 'k'], ['exact', 'comparator']] as const) {
      let err: unknown;
      try {
        compareJobOutputs({ comparator: spec }, t([1]), t([1]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InfermarketError);
      expect((err as InfermarketError).code).toBe('ERR_BAD_COMPARATOR');
      expect((err as InfermarketError).details).toEqual({ field });
    }
    expect(() => compareJobOutputs({ generationComparator: { kind: 'nope' } }, tok([1]), tok([1]))).toThrow(/"kind" must be one of/);
    expect(() => parseComparatorSpec(null)).toThrow(InfermarketError);
  });
});
