import { createRuntime, sampleInput, type Runtime } from '@infermarket/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWireTensor } from './executor.js';
import { traceMethods } from './trace-executor.js';

/** The trace methods fail loud when a traced model variant has no per-layer tolerances (real onnxruntime). */
let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ threads: 1 });
});
afterAll(async () => {
  await rt.close();
});

describe('trace methods and per-layer tolerances', () => {
  it('with tolerances: a trace run, a segment and a boundary judgement work; without: each throws naming the model, variant and the command', async () => {
    const tracing = traceMethods(rt);
    const x = sampleInput('heavy', 7).input.x!;
    const input = { kind: 'tensor' as const, tensor: toWireTensor(x) };
    const r = (await tracing.run({ model: 'heavy', variant: 'int8', input }))!;
    expect(r.boundaries).toHaveLength(2);
    const seg = await tracing.segment({ model: 'heavy', variant: 'int8', fromIndex: 0, toIndex: 1, input: toWireTensor(x) });
    expect(tracing.agree({ model: 'heavy', variant: 'int8', index: 1, a: seg.tensor, b: r.boundaries[0]! })).toBe(true);
    expect(() => tracing.checkTolerances('heavy', 'int8')).not.toThrow();
    expect(() => tracing.checkTolerances('charlm', 'int8')).not.toThrow(); // commits no trace, needs none

    const saved = rt.manifest.models.heavy.variants.int8.layerTolerances;
    delete rt.manifest.models.heavy.variants.int8.layerTolerances;
    try {
      const missing = /heavy\/int8 has no layer tolerance for boundary "h1".*infermarket models calibrate --layers --models heavy/;
      expect(() => tracing.checkTolerances('heavy', 'int8')).toThrow(missing);
      await expect(tracing.run({ model: 'heavy', variant: 'int8', input })).rejects.toThrow(missing);
      await expect(tracing.segment({ model: 'heavy', variant: 'int8', fromIndex: 0, toIndex: 1, input: toWireTensor(x) })).rejects.toThrow(missing);
      await expect(tracing.warm('heavy', 'int8')).rejects.toThrow(missing);
      expect(() => tracing.agree({ model: 'heavy', variant: 'int8', index: 1, a: seg.tensor, b: r.boundaries[0]! })).toThrow(missing);
      // other variants keep working
      expect((await tracing.run({ model: 'heavy', variant: 'int4', input }))!.boundaries).toHaveLength(2);
    } finally {
      rt.manifest.models.heavy.variants.int8.layerTolerances = saved;
    }
  });
});
