import { describe, expect, it } from 'vitest';
import { planTask } from './validator-strategy.js';

describe('planTask', () => {
  it('a colluding validator stays silent on every task about a partner, audit or dispute, and re-executes the rest', () => {
    expect(planTask('colluding', { purpose: 'audit', minerIsPartner: true })).toBe('silent');
    expect(planTask('colluding', { purpose: 'dispute', minerIsPartner: true })).toBe('silent');
    expect(planTask('colluding', { purpose: 'audit', minerIsPartner: false })).toBe('reexecute');
    expect(planTask('colluding', { purpose: 'dispute', minerIsPartner: false })).toBe('reexecute');
  });
  it('a colluding validator whose partner hands it the output vouches (audit and dispute); others ignore the offer', () => {
    expect(planTask('colluding', { purpose: 'audit', minerIsPartner: true, partnerShares: true })).toBe('vouch');
    expect(planTask('colluding', { purpose: 'dispute', minerIsPartner: true, partnerShares: true })).toBe('vouch');
    expect(planTask('colluding', { purpose: 'dispute', minerIsPartner: false, partnerShares: true })).toBe('reexecute');
    expect(planTask('honest', { purpose: 'dispute', minerIsPartner: true, partnerShares: true })).toBe('reexecute');
  });
  it('an honest validator always re-executes; a lazy one always claims cheaply', () => {
    for (const purpose of ['audit', 'dispute'] as const) {
      for (const minerIsPartner of [true, false]) {
        expect(planTask('honest', { purpose, minerIsPartner })).toBe('reexecute');
        expect(planTask('lazy', { purpose, minerIsPartner })).toBe('cheap-claim');
      }
    }
  });
});
