import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashHex } from './crypto.js';
import { MAX_TRACE_LAYERS, traceProof, traceRoot, verifyTraceProof } from './trace.js';

const trace = (n: number, tag = 't') => Array.from({ length: n }, (_, i) => hashHex(`${tag}${i}`));

describe('trace commitments', () => {
  it('opens every boundary of traces of every length against the root', () => {
    for (let n = 2; n <= 20; n++) {
      const t = trace(n);
      const root = traceRoot(t);
      for (let i = 0; i < n; i++) {
        expect(verifyTraceProof({ root, layers: n - 1, index: i, boundaryHash: t[i]!, proof: traceProof(t, i) })).toBe(true);
      }
    }
  });

  it('error: rejects a proof for another index, another hash, another length or a tampered sibling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_TRACE_LAYERS + 1 }), fc.nat(), fc.nat(), (n, a, b) => {
        const t = trace(n);
        const root = traceRoot(t);
        const i = a % n;
        const j = b % n;
        const proof = traceProof(t, i);
        if (j !== i) expect(verifyTraceProof({ root, layers: n - 1, index: j, boundaryHash: t[i]!, proof })).toBe(false);
        expect(verifyTraceProof({ root, layers: n - 1, index: i, boundaryHash: hashHex('other'), proof })).toBe(false);
        if (n > 2) expect(verifyTraceProof({ root, layers: n, index: i, boundaryHash: t[i]!, proof })).toBe(false);
        if (proof.length > 0) {
          const bad = [...proof];
          bad[0] = hashHex('x');
          expect(verifyTraceProof({ root, layers: n - 1, index: i, boundaryHash: t[i]!, proof: bad })).toBe(false);
          expect(verifyTraceProof({ root, layers: n - 1, index: i, boundaryHash: t[i]!, proof: [...proof, proof[0]!] })).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('binds every position: changing any boundary changes the root', () => {
    const t = trace(9);
    const roots = new Set([traceRoot(t)]);
    for (let i = 0; i < t.length; i++) roots.add(traceRoot(t.map((h, k) => (k === i ? hashHex('changed') : h))));
    expect(roots.size).toBe(t.length + 1);
    // swapping two boundaries changes it too (leaves bind their index)
    expect(traceRoot([t[1]!, t[0]!, ...t.slice(2)])).not.toBe(traceRoot(t));
  });

  it('error: a malformed trace is ERR_VALIDATION naming the field', () => {
    expect(() => traceRoot([hashHex('a')])).toThrow(/2\.\.65 boundary hashes/);
    expect(() => traceRoot(trace(MAX_TRACE_LAYERS + 2))).toThrow(/boundary hashes/);
    expect(() => traceRoot([hashHex('a'), 'nothex'])).toThrow(/boundaryHashes\[1\]/);
    expect(verifyTraceProof({ root: 'zz', layers: 1, index: 0, boundaryHash: hashHex('a'), proof: [] })).toBe(false);
  });
});
