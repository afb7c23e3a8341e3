import { percentile, type TruthCounts, type TruthReport } from '@infermarket/protocol';

/** Accumulates the simulator's ground truth about delivered outputs, per miner strategy and verification level. */
export interface TruthTracker {
  /** A miner committed an output; `wrong` when it differs from the honest output under the comparator. */
  committed(level: string, wrong: boolean): void;
  /** A wrong output was caught (its miner slashed, the job not paid). */
  caught(level: string): void;
  /** A job settled: what its client paid and waited, and whether the delivered output was wrong. */
  settled(o: { level: string; strategy: string; wrong: boolean; paidMicro: bigint; latencyMs: number }): void;
  report(o: { auditRate: number; audits: NonNullable<TruthReport['audits']> }): TruthReport;
}

const per = (wrong: number, settled: number): number | null => (settled ? Math.round((wrong / settled) * 1_000_000) / 1000 : null);
const counts = (c: { settled: number; wrong: number }): TruthCounts => ({ settled: c.settled, wrong: c.wrong, wrongPerThousand: per(c.wrong, c.settled) });

/** A tracker with empty counts. Latency samples are kept whole up to 200,000 per level (then every other one is dropped). */
export function createTruthTracker(): TruthTracker {
  const all = { settled: 0, wrong: 0 };
  const byStrategy = new Map<string, { settled: number; wrong: number }>();
  const byLevel = new Map<string, { settled: number; wrong: number; wrongCommitted: number; caught: number; paid: bigint; lat: number[] }>();
  const level = (l: string) => {
    let x = byLevel.get(l);
    if (!x) byLevel.set(l, (x = { settled: 0, wrong: 0, wrongCommitted: 0, caught: 0, paid: 0n, lat: [] }));
    return x;
  };
  return {
    committed(l, wrong) {
      if (wrong) level(l).wrongCommitted++;
    },
    caught(l) {
      level(l).caught++;
    },
    settled({ level: l, strategy, wrong, paidMicro, latencyMs }) {
      const w = wrong ? 1 : 0;
      all.settled++;
      all.wrong += w;
      const s = byStrategy.get(strategy) ?? { settled: 0, wrong: 0 };
      s.settled++;
      s.wrong += w;
      byStrategy.set(strategy, s);
      const x = level(l);
      x.settled++;
      x.wrong += w;
      x.paid += paidMicro;
      if (x.lat.length >= 200_000) x.lat = x.lat.filter((_, i) => i % 2 === 0);
      x.lat.push(latencyMs);
    },
    report({ auditRate, audits }) {
      return {
        source: 'ground-truth',
        ...counts(all),
        unchecked: 0,
        byStrategy: Object.fromEntries([...byStrategy].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, counts(v)])),
        byLevel: Object.fromEntries(
          [...byLevel].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [
            k,
            {
              ...counts(v),
              wrongCommitted: v.wrongCommitted,
              caught: v.caught,
              ...(k === 'sampled' ? { predictedWrongPerThousand: per(v.wrongCommitted * (1 - auditRate), v.settled) } : {}),
              costPerThousandMicro: v.settled ? ((v.paid * 1000n) / BigInt(v.settled)).toString() : '0',
              settleLatencyMs: { p50: percentile(v.lat, 50), p95: percentile(v.lat, 95) },
            },
          ]),
        ),
        audits,
      };
    },
  };
}
