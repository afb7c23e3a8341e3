/**
 * @infermarket/protocol — the one rulebook of infermarket. Pure: time and randomness are inputs.
 * The live market and the simulator both drive `apply(state, event)` and perform the returned effects.
 */
export * from './errors.js';
export * from './params.js';
export * from './canonical.js';
export * from './crypto.js';
export * from './envelope.js';
export * from './types.js';
export * from './state.js';
export { apply, timerLive } from './apply.js';
export { REPLAY_WINDOW, parseSeq, nonceSequence, checkNonce, rememberNonce, pruneNonces, type ReplayBook } from './replay.js';
export * from './token.js';
export { publishPrice, MAX_ORACLE_PRICE_MICRO, type OracleState } from './oracle.js';
export { balanceOf, bpsOf } from './ledger.js';
export { checkInvariants, ledgerTotals, type LedgerTotals } from './invariants.js';
export { chooseWinner, type MatchContext } from './matching.js';
export { isAudited, uniformFromSeed, rankValidators, isEligibleValidator, isLive } from './selection.js';
export { isEligibleMiner, slashableOf } from './nodes.js';
export { worstCaseCost, checkVerification } from './jobs.js';
export { jobRows, checkBatchRows, sampleAuditRows, batchCatchProbability, sliceTensorRows, sliceRows, compareSampledRows, type RowsCompareResult } from './batch.js';
export { offerBids, OFFER_LIMITS } from './offers.js';
export * from './scenario.js';
export * from './scenario-parse.js';
export * from './resolve-scenario.js';
export * from './report.js';
export * from './wire.js';
export * from './session-wire.js';
export { paramTableMarkdown, errorTableMarkdown } from './doc-tables.js';
export * from './sealed.js';
export * from './comparators.js';
export * from './private-job.js';
export * from './threshold.js';
export { outputLength, checkOutputLength, type OutputContract, type OutputLength } from './output-shape.js';
export { receiptChecks, type ReceiptChecks } from './receipt-checks.js';
export { createJobLog, JOBS_CSV_COLUMNS, type JobLog, type JobLogRow, type JobLogLabels } from './job-log.js';
export { traceRoot, traceProof, verifyTraceProof, checkTraceLayers, MAX_TRACE_LAYERS, MAX_BISECTION_STEPS } from './trace.js';
export { maxBisectionRounds, bisectionMidpoint, usesBisection, type BisectionGame } from './bisection.js';
export * from './sampled-recheck.js';
