/**
 * @infermarket/client — the client SDK: submit jobs, wait or stream tokens, read balances, use the faucet,
 * verify the market's signed receipts locally, and generate seeded load.
 */
export { createClient, type Client, type ClientOptions, type SubmitRequest, type Submitted, type StreamedToken, type AccountInfo } from './client.js';
export { verifyReceipt, type ReceiptEnvelope, type VerifiedReceipt, type ReceiptExpectations } from './receipt.js';
export { runLoad, type LoadOptions, type LoadJobResult, type LoadSummary } from './load.js';
export { createRng, type Rng } from './prng.js';
export { syntheticInput, float32Tensor, tensorValues, stackRows } from './inputs.js';
export { requestJson, toWireJson, type RequestOptions } from './wire-json.js';
export { openClientSession, type ClientSession, type ClientSessionOptions } from './session.js';
export { CA_HINT, untrustedCertificateReason } from './tls-hint.js';
export { createHybridClient, HYBRID_DEFAULTS, type HybridClient, type HybridOptions, type HybridPolicy, type HybridResult, type HybridRoute, type HybridCounts } from './hybrid.js';
