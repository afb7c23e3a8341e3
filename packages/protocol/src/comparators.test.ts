import { describe, it, expect } from 'vitest';
import { compareOutputs, parseComparatorSpec, maxAbsDiff, decodeBase64 } from './comparators.js';
import type { TensorData } from './comparators.js';

const f32 = (rows: number[][]): TensorData => ({ dtype: 'float32', dims: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) });
const toks = (ids: number[]): TensorData => ({ dtype: 'int32', dims: [ids.length], data: Int32Array.from(ids) });

describe('compareOutputs: argmax-maxabs', () => {
  const spec = { kind: 'argmax-maxabs', tolerance: 1e-4 } as const;
  const ref = f32([[1, 5, 2], [0.5, -1, 3]]);

  it('accepts outputs within tolerance with the same argmax', () => {
    const r = compareOutputs(spec, ref, f32([[1 + 5e-5, 5 - 3e-5, 2], [0.5, -1, 3 + 1e-5]]));
    expect(r.match).toBe(true);
    expect(r.maxAbsDiff).toBeCloseTo(5e-5, 6);
  });

  it('accepts a flipped argmax on a near tie within tolerance', () => {
    expect(compareOutputs(spec, f32([[1, 2, 2 + 1e-5]]), f32([[1, 2 + 2e-5, 2 + 1e-5]])).match).toBe(true);
  });

  it('error: rejects a difference above tolerance, naming it', () => {
    const r = compareOutputs(spec, ref, f32([[1, 5, 2.01], [0.5, -1, 3]]));
    expect(r.match).toBe(false);
    expect(r.reason).toMatch(/exceeds tolerance/);
  });

  it('error: rejects a different argmax (another input’s output)', () => {
    const r = compareOutputs(spec, ref, f32([[0.5, -1, 3], [1, 5, 2]]));
    expect(r.match).toBe(false);
    expect(r.reason).toMatch(/row 0: argmax differs/);
  });

  it('error: rejects NaN and Infinity (a NaN must not slip through a <= test)', () => {
    expect(compareOutputs(spec, ref, f32([[NaN, 5, 2], [0.5, -1, 3]])).match).toBe(false);
    expect(compareOutputs(spec, ref, f32([[1, Infinity, 2], [0.5, -1, 3]])).match).toBe(false);
  });

  it('error: rejects another shape, dtype or a short data array', () => {
    expect(compareOutputs(spec, ref, f32([[1, 5, 2]])).reason).toMatch(/shape differs: expected float32 \[2, 3\], received float32 \[1, 3\]/);
    expect(compareOutputs(spec, ref, { ...ref, dtype: 'int32' }).match).toBe(false);
    expect(compareOutputs(spec, ref, { ...ref, data: new Float32Array(5) }).match).toBe(false);
  });
});

describe('compareOutputs: exact, topk, tokens', () => {
  it('exact: bit-identical only', () => {
    const a = f32([[1, 2]]);
    expect(compareOutputs({ kind: 'exact' }, a, f32([[1, 2]])).match).toBe(true);
    expect(compareOutputs({ kind: 'exact' }, a, f32([[1, 2 + 2 ** -20]])).match).toBe(false);
  });

  it('topk: same top-k set regardless of order; a near-tie swap within tolerance is accepted', () => {
    const a = f32([[0.1, 0.9, 0.5, 0.49]]);
    expect(compareOutputs({ kind: 'topk', k: 2 }, a, f32([[0, 0.6, 0.8, 0]])).match).toBe(true);
    expect(compareOutputs({ kind: 'topk', k: 2 }, a, f32([[0, 0.9, 0.1, 0.5]])).match).toBe(false);
    expect(compareOutputs({ kind: 'topk', k: 2, tolerance: 0.02 }, a, f32([[0, 0.9, 0.1, 0.5]])).match).toBe(true);
  });

  it('tokens: identical sequences match; the first divergence is named', () => {
    expect(compareOutputs({ kind: 'tokens' }, toks([5, 6, 7]), toks([5, 6, 7])).match).toBe(true);
    const r = compareOutputs({ kind: 'tokens' }, toks([5, 6, 7]), toks([5, 9, 7]));
    expect(r).toMatchObject({ match: false });
    expect(r.reason).toMatch(/position 1/);
    expect(compareOutputs({ kind: 'tokens' }, toks([5, 6, 7]), toks([5, 6])).reason).toMatch(/token count differs: expected 3, received 2/);
  });
});

describe('compareOutputs: wire-shaped outputs', () => {
  const b64 = (a: Float32Array | Int32Array): string => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let bin = '';
    for (const x of bytes) bin += String.fromCharCode(x);
    return btoa(bin);
  };
  it('decodes base64 float32 tensors and token lists', () => {
    const a = Float32Array.of(1, 5, 2, 0.25);
    const wire = { kind: 'tensor' as const, tensor: { dtype: 'float32', dims: [2, 2], data: b64(a) } };
    expect(compareOutputs({ kind: 'exact' }, wire, { dtype: 'float32', dims: [2, 2], data: a })).toMatchObject({ match: true });
    const near = { kind: 'tensor' as const, tensor: { dtype: 'float32', dims: [2, 2], data: b64(Float32Array.of(1, 5, 2, 0.25001)) } };
    expect(compareOutputs({ kind: 'argmax-maxabs', tolerance: 1e-4 }, wire, near).match).toBe(true);
    expect(compareOutputs({ kind: 'tokens' }, { kind: 'tokens', tokens: [1, 2] }, { kind: 'tokens', tokens: [1, 2] }).match).toBe(true);
    expect(compareOutputs({ kind: 'tokens' }, { kind: 'tokens', tokens: [1, 2] }, { kind: 'tokens', tokens: [1, 3] }).match).toBe(false);
  });
  it('error: a malformed wire tensor never matches', () => {
    const bad = { kind: 'tensor' as const, tensor: { dtype: 'float32', dims: [1], data: '!!' } };
    expect(compareOutputs({ kind: 'exact' }, bad, bad)).toMatchObject({ match: false });
    expect(decodeBase64('AAAA')).toEqual(new Uint8Array(3));
  });
});

describe('parseComparatorSpec', () => {
  it('accepts every kind and rejects bad fields with the field name', () => {
    expect(parseComparatorSpec({ kind: 'argmax-maxabs', tolerance: 0.001 })).toEqual({ kind: 'argmax-maxabs', tolerance: 0.001 });
    expect(parseComparatorSpec({ kind: 'topk', k: 3 })).toEqual({ kind: 'topk', k: 3 });
    expect(parseComparatorSpec({ kind: 'tokens' })).toEqual({ kind: 'tokens' });
    expect(() => parseComparatorSpec({ kind: 'argmax-maxabs', tolerance: -1 })).toThrow(/"tolerance" must be a finite number >= 0, got -1/);
    expect(() => parseComparatorSpec({ kind: 'topk', k: 0 })).toThrow(/"k"/);
    expect(() => parseComparatorSpec({ kind: 'fuzzy' })).toThrow(/"kind" must be one of/);
    expect(() => parseComparatorSpec(null)).toThrow(/must be an object/);
  });

  it('maxAbsDiff treats mismatched lengths and non-finite values as infinitely far', () => {
    expect(maxAbsDiff([1, 2], [1])).toBe(Infinity);
    expect(maxAbsDiff([1, NaN], [1, 2])).toBe(Infinity);
    expect(maxAbsDiff([1, 2], [1.5, 2])).toBe(0.5);
  });
});
