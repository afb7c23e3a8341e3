import { InfermarketError, type JobInput } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from './models.js';
import { checkInputRows } from './submit.js';

const spec = (id: string, kind: string, shape: (number | string)[]): ModelSpec => ({ id, kind, description: '', inputs: [{ name: 'x', dtype: 'float32', shape }], outputs: [], comparator: { kind: 'exact' }, generationComparator: null, variants: ['fp32'] });
const tensor = (dims: number[]): JobInput => ({ kind: 'tensor', tensor: { dtype: 'float32', dims, data: '' } });
const code = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InfermarketError) return `${e.code}:${String(e.details?.field)}`;
    throw e;
  }
  return 'ok';
};

describe('checkInputRows: a job pays for every row it sends', () => {
  const dense = spec('dense', 'dense', ['batch', 4]);
  it('accepts rows equal to the tensor\'s batch dim', () => {
    expect(code(() => checkInputRows(dense, tensor([1, 4]), 1))).toBe('ok');
    expect(code(() => checkInputRows(dense, tensor([32, 4]), 32))).toBe('ok');
  });
  it('error: rows that differ from the batch dim (either way) → ERR_BAD_BATCH naming rows', () => {
    expect(code(() => checkInputRows(dense, tensor([8, 4]), 1))).toBe('ERR_BAD_BATCH:rows');
    expect(code(() => checkInputRows(dense, tensor([2, 4]), 3))).toBe('ERR_BAD_BATCH:rows');
  });
  it('error: rows > 1 for a generation model or a model without a batch dim', () => {
    const gen: JobInput = { kind: 'prompt', prompt: 'a', maxTokens: 1, temperature: 0, seed: 1 };
    expect(code(() => checkInputRows(spec('charlm', 'charlm', ['batch']), gen, 2))).toBe('ERR_BAD_BATCH:rows');
    expect(code(() => checkInputRows(spec('charlm', 'charlm', ['batch']), gen, 1))).toBe('ok');
    expect(code(() => checkInputRows(spec('fixed', 'dense', [1, 4]), tensor([1, 4]), 2))).toBe('ERR_BAD_BATCH:rows');
    expect(code(() => checkInputRows(spec('fixed', 'dense', [1, 4]), tensor([1, 4]), 1))).toBe('ok');
  });
});
