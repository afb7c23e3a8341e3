import type { BenchRow } from './harness.js';
import { ledgerSuite } from './ledger-suite.js';
import { modelsSuite } from './models-suite.js';
import { overheadSuite } from './overhead-suite.js';
import { batchSuite } from './batch-suite.js';
import { verificationSuite } from './verification-suite.js';
import { protocolSuite } from './protocol-suite.js';
import { simSuite } from './sim-suite.js';
import { startupScenario, startupSuite } from './startup-suite.js';
import { PRIVACY_SETTINGS, privacySuite } from './privacy-suite.js';
import { disputesSuite } from './disputes-suite.js';

export interface SuiteContext {
  quick: boolean;
  /** `--model`: the model of the disputes suite (others ignore it). */
  model?: string;
  log: (message: string) => void;
  /**
   * Record what a run needs to be reproduced and checked (seeds, settings, effective parameters, raw
   * per-block numbers): merged into the suite's entry of `results.json`.
   */
  record: (meta: Record<string, unknown>) => void;
}

export type Suite = (ctx: SuiteContext) => Promise<BenchRow[]>;

/** Every benchmark suite, in the order they run and appear in the table. */
export const SUITES: Record<string, Suite> = {
  protocol: (ctx) => {
    ctx.record({ seed: 'none: fixed key labels bench-m0…3, bench-v0…1, bench-c and epoch seeds hash("bench"), hash("bench-<job>")', jobs: ctx.quick ? 5_000 : 50_000 });
    return protocolSuite({ jobs: ctx.quick ? 5_000 : 50_000, repeats: ctx.quick ? 2 : 5 });
  },
  simulator: (ctx) => simSuite(ctx),
  ledger: (ctx) => {
    ctx.record({ seed: 'none: generated rows are deterministic' });
    return ledgerSuite(ctx);
  },
  models: (ctx) => {
    ctx.record({ inputSeed: 1 });
    return modelsSuite(ctx);
  },
  overhead: (ctx) => overheadSuite(ctx),
  batch: (ctx) => batchSuite(ctx),
  verification: (ctx) => verificationSuite(ctx),
  startup: (ctx) => {
    ctx.record({ seed: startupScenario(0).seed });
    return startupSuite(ctx);
  },
  privacy: (ctx) => {
    ctx.record({ seed: PRIVACY_SETTINGS.seed });
    return privacySuite(ctx);
  },
  disputes: (ctx) => disputesSuite(ctx),
};
