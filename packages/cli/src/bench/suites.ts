import type { BenchRow } from './harness.js';
import { ledgerSuite } from './ledger-suite.js';
import { modelsSuite } from './models-suite.js';
import { overheadSuite } from './overhead-suite.js';
import { verificationSuite } from './verification-suite.js';
import { protocolSuite } from './protocol-suite.js';
import { simSuite } from './sim-suite.js';
import { startupSuite } from './startup-suite.js';
import { privacySuite } from './privacy-suite.js';

export interface SuiteContext {
  quick: boolean;
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
  protocol: (ctx) => protocolSuite({ jobs: ctx.quick ? 5_000 : 50_000, repeats: ctx.quick ? 2 : 5 }),
  simulator: (ctx) => simSuite(ctx),
  ledger: (ctx) => ledgerSuite(ctx),
  models: (ctx) => modelsSuite(ctx),
  overhead: (ctx) => overheadSuite(ctx),
  verification: (ctx) => verificationSuite(ctx),
  startup: (ctx) => startupSuite(ctx),
  privacy: (ctx) => privacySuite(ctx),
};
