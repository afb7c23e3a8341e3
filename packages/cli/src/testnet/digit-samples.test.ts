import { describe, expect, it } from 'vitest';
import { hashPayload } from '@infermarket/protocol';
import { bundledDigitInput, DIGIT_SAMPLE_COUNT } from './digit-samples.js';
import { sampleJobInput } from './inputs.js';

describe('bundledDigitInput', () => {
  it('equals the inference package\'s sample input for every bundled index', () => {
    for (let i = 0; i < DIGIT_SAMPLE_COUNT; i++) {
      const ours = bundledDigitInput(i);
      const theirs = sampleJobInput('digits', i);
      expect(ours.label).toBe(theirs.label);
      expect(hashPayload(ours.input)).toBe(hashPayload(theirs.input));
    }
  });
});
