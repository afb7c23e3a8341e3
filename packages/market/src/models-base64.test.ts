import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBase64 } from './models.js';

describe('isBase64 (the input check on a batch job\'s tensor data)', () => {
  it('accepts exactly what /^[A-Za-z0-9+/]*={0,2}$/ accepts', () => {
    const re = /^[A-Za-z0-9+/]*={0,2}$/;
    const alphabet = fc.constantFrom(...'AZaz09+/= \n-_é'.split(''));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 12 }).map((a) => a.join('')), (s) => isBase64(s) === re.test(s)), { numRuns: 3000 });
    for (const s of ['', 'ab==', 'abc=', 'a=b', 'ab===', '=', '==', Buffer.alloc(1000).toString('base64')]) expect(isBase64(s)).toBe(re.test(s));
  });
});
