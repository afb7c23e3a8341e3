import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { deterrenceThreshold, hypergeometricPmf } from './threshold.js';

const base = { computeCostMicro: 312, rewardMicro: 992, slashMicro: 1000, validators: 3, colludingValidators: 0, disputeQuorum: 2 };

describe('deterrenceThreshold', () => {
  it('reduces to PoSP C/(R+S) with no collusion, no timeouts and no divergence', () => {
    const t = deterrenceThreshold(base);
    expect(t.terms.detectionGivenAudit).toBe(1);
    expect(t.terms.falsePositiveGivenAudit).toBe(0);
    expect(t.terms.auditAnswered).toBe(1);
    expect(t.pStar).toBeCloseTo(312 / 1992, 12);
    expect(t.posp.simple).toBeCloseTo(312 / 1992, 12);
    expect(t.deterrable).toBe(true);
  });

  it('matches the spML test vector: C=1, R=1.2, S=150, r=0.1 gives p* in [0.7349 %, 0.7355 %] (4-digit rounding)', () => {
    // disputeQuorum 0: the auditor alone decides, as in PoSP's single-validator game
    const t = deterrenceThreshold({ computeCostMicro: 1, rewardMicro: 1.2, slashMicro: 150, validators: 10, colludingValidators: 1, disputeQuorum: 0 });
    expect(t.terms.detectionGivenAudit).toBeCloseTo(0.9, 12);
    expect(t.pStar).toBeCloseTo(1 / (0.9 * 151.2), 12); // 0.0073486
    for (const v of [t.pStar!, t.posp.withCollusion!, t.posp.propositionOne!]) {
      expect(Number((v * 100).toFixed(4))).toBeGreaterThanOrEqual(0.7349);
      expect(Number((v * 100).toFixed(4))).toBeLessThanOrEqual(0.7355);
    }
    expect(t.posp.propositionOne).toBeCloseTo(1 / (0.9 * 150 + 0.8 * 1.2), 12); // 0.0073551
  });

  it('counts colluding referees: disputeQuorum 2, 3 of 10 colluding; silent ones only delay the slash, voting ones shield 3/36', () => {
    const t = deterrenceThreshold({ ...base, validators: 10, colludingValidators: 3, auditRate: 0.3 });
    expect(t.terms.referees).toBe(2);
    expect(t.terms.majority).toBe(2);
    // silent colluding referees (the agents' strategy) cast no vote: the accuser's 1–0 wins when the window closes
    expect(t.terms.refereesShieldCheat).toBe(0);
    expect(t.terms.detectionGivenAudit).toBeCloseTo(0.7, 12);
    expect(t.terms.honestAuditorOutvoted).toBe(0);
    expect(t.pStar).toBeCloseTo(312 / (0.7 * 1992), 12);
    // referees that vote with their partner outvote the honest auditor 2–1 whenever both collude: C(3,2)/C(9,2)
    const loud = deterrenceThreshold({ ...base, validators: 10, colludingValidators: 3, auditRate: 0.3, colludingRefereesVote: 'with-miner' });
    expect(loud.terms.refereesShieldCheat).toBeCloseTo(3 / 36, 12);
    expect(loud.terms.detectionGivenAudit).toBeCloseTo(0.7 * (1 - 1 / 12), 12);
    expect(loud.terms.detectionGivenAudit).toBeCloseTo(0.642, 3);
    expect(loud.terms.honestAuditorOutvoted).toBeCloseTo(0.7 / 12, 12);
    expect(loud.pStar).toBeCloseTo(312 / (0.7 * (11 / 12) * 1992), 12);
    // PoSP's collusion form credits the referees to the honest side and so asks for too little against voting colluders
    expect(loud.posp.withCollusion!).toBeLessThan(loud.pStar!);
    expect(loud.atAuditRate!.detection).toBeCloseTo(0.3 * 0.7 * (11 / 12), 12);
    expect(loud.atAuditRate!.cheatingPays).toBe(false); // 0.3 > p* ≈ 0.244
  });

  it('a single colluding referee (quorum 1): silent, the accuser wins 1–0 at the close; voting, a 1–1 tie pays the miner', () => {
    const t = deterrenceThreshold({ ...base, validators: 3, colludingValidators: 1, disputeQuorum: 1 });
    // auditor honest 2/3; its one referee is drawn from the other 2, of which 1 colludes
    expect(t.terms.refereesShieldCheat).toBe(0);
    expect(t.terms.detectionGivenAudit).toBeCloseTo(2 / 3, 12);
    const loud = deterrenceThreshold({ ...base, validators: 3, colludingValidators: 1, disputeQuorum: 1, colludingRefereesVote: 'with-miner' });
    expect(loud.terms.refereesShieldCheat).toBeCloseTo(0.5, 12);
    expect(loud.terms.detectionGivenAudit).toBeCloseTo(1 / 3, 12);
    expect(loud.terms.honestAuditorOutvoted).toBe(0); // a tie slashes nobody
  });

  it('caps the referees at the validators other than the accuser', () => {
    const t = deterrenceThreshold({ ...base, validators: 2, disputeQuorum: 5 });
    expect(t.terms.referees).toBe(1);
    expect(t.terms.majority).toBe(2);
  });

  it('honest divergence is a false-positive cost of honesty that raises p*', () => {
    const t = deterrenceThreshold({ ...base, honestDivergenceRate: 0.1 });
    // honest auditor diverges (0.1), then at least 1 of its 2 honest referees must diverge too: 1 − 0.9²
    expect(t.terms.falsePositiveGivenAudit).toBeCloseTo(0.1 * 0.19, 12);
    expect(t.pStar).toBeCloseTo(312 / ((1 - 0.019) * 1992), 12);
  });

  it('audit timeouts dilute detection; reassignments after a timeout win it back', () => {
    const once = deterrenceThreshold({ ...base, auditTimeoutRate: 0.2 });
    expect(once.terms.auditAnswered).toBeCloseTo(0.8, 12);
    expect(once.pStar).toBeCloseTo(312 / (0.8 * 1992), 12);
    const twice = deterrenceThreshold({ ...base, auditTimeoutRate: 0.2, auditReassignments: 1 });
    expect(twice.terms.auditAnswered).toBeCloseTo(0.96, 12);
  });

  it('says why no audit rate deters when every validator colludes', () => {
    const t = deterrenceThreshold({ ...base, validators: 4, colludingValidators: 4 });
    expect(t.pStar).toBeNull();
    expect(t.pStarReason).toMatch(/no more likely/);
    expect(t.deterrable).toBe(false);
  });

  it('reports p* above 1 as not deterrable', () => {
    const t = deterrenceThreshold({ ...base, computeCostMicro: 5000 });
    expect(t.pStar).toBeGreaterThan(1);
    expect(t.deterrable).toBe(false);
  });

  it('error: names the input that is out of range', () => {
    const call = (): unknown => deterrenceThreshold({ ...base, colludingValidators: 4 });
    expect(call).toThrow(InfermarketError);
    expect(call).toThrow(/"colludingValidators" must not exceed "validators"/);
    expect(() => deterrenceThreshold({ ...base, auditTimeoutRate: 1.5 })).toThrow(/"auditTimeoutRate" must be a probability/);
  });

  it('hypergeometric pmf sums to 1', () => {
    let s = 0;
    for (let x = 0; x <= 4; x++) s += hypergeometricPmf(12, 5, 4, x);
    expect(s).toBeCloseTo(1, 12);
    expect(hypergeometricPmf(9, 3, 2, 2)).toBeCloseTo(3 / 36, 12);
  });
});
