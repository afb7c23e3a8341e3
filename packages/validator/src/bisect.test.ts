import { describe, expect, it } from 'vitest';
import { sliceWireRows } from './bisect.js';

const wire = (dims: number[], values: number[]) => ({ dtype: 'float32' as const, dims, data: Buffer.from(Float32Array.from(values).buffer).toString('base64') });
const values = (t: { data: string }) => Array.from(new Float32Array(new Uint8Array(Buffer.from(t.data, 'base64')).buffer));

describe('a challenger audited on a sample of a batch job rows judges the miner boundary on those rows', () => {
  it('takes the sampled rows of a relayed boundary, in the audit order', () => {
    const t = wire([4, 2], [0, 1, 10, 11, 20, 21, 30, 31]);
    const s = sliceWireRows(t, [3, 1])!;
    expect(s.dims).toEqual([2, 2]);
    expect(values(s)).toEqual([30, 31, 10, 11]);
  });
  it('a boundary without those rows is no boundary of this job (null: a disagreement)', () => {
    expect(sliceWireRows(wire([2, 2], [0, 1, 2, 3]), [2])).toBeNull();
    expect(sliceWireRows(wire([2, 2], [0, 1, 2, 3]), [-1])).toBeNull();
    expect(sliceWireRows({ dtype: 'float32', dims: [3, 1], data: Buffer.alloc(8).toString('base64') }, [0])).toBeNull();
  });
});
