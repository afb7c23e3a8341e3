import {
  hashPayload,
  InfermarketError,
  VERIFICATION_LEVELS,
  verifyMessage,
  type Envelope,
  type JobOutput,
  type ReceiptBody,
  type Verdict,
  type VerificationLevel,
} from '@infermarket/protocol';

/** A receipt as it arrives in JSON: the market's signed `job.receipt` envelope (amounts as decimal strings). */
export type ReceiptEnvelope = Envelope<'job.receipt'>;

/**
 * What a verified receipt says, amounts as bigint. `verified` is true only when the market signed that
 * someone other than the miner re-executed the job and agreed (`verdict: 'verified'`), and the output had the
 * length the input asked for; `checked` explains it in one line.
 */
export interface VerifiedReceipt extends ReceiptBody {
  verified: boolean;
  checked: string;
}

const VERDICTS: readonly Verdict[] = ['unchecked', 'pending', 'verified', 'caught', 'unavailable'];

function describeChecks(b: ReceiptBody): string {
  const len = b.outputLength !== null && b.expectedLength !== null ? `; output ${b.outputLength}/${b.expectedLength}` : '';
  switch (b.verdict) {
    case 'verified':
      return `${b.verification}: verified by ${b.checkedBy.join(', ') || 'the referees'}${len}${b.flaggedTokens?.length ? `; token(s) ${b.flaggedTokens.join(', ')} accepted within a sampling-boundary margin` : ''}`;
    case 'caught':
      return `${b.verification}: the output was found wrong and the miner slashed${len}`;
    case 'unavailable':
      return `${b.verification}: NOT verified — a check was due but no validator completed it (asked: ${b.auditors.join(', ') || 'none available'})${len}`;
    default:
      return `${b.verification}: not checked (unverified)${len}`;
  }
}

/** Extra facts the receipt must agree with (all optional). */
export interface ReceiptExpectations {
  jobId?: string;
  inputHash?: string;
  /** The output the client received: its canonical hash must equal the receipt's `outputHash`. */
  output?: JobOutput | null;
  client?: string;
}

const AMOUNT = /^\d{1,30}$/;

/**
 * Verify a job receipt locally: the envelope is a `job.receipt` signed by `marketKey` (hex ed25519 public
 * key, printed by the market when it starts), over exactly this body; optionally that it names the job, the
 * input and the output the client holds. Nothing is trusted from the network but the key.
 * @returns the receipt body with amounts as bigint.
 * @throws InfermarketError `ERR_BAD_SIGNATURE` for a forged or altered receipt, `ERR_VALIDATION` for a
 *   malformed one or one that disagrees with `expect`.
 * @example const r = verifyReceipt(job.receipt!, marketKey, { jobId, output: job.output });
 */
export function verifyReceipt(receipt: unknown, marketKey: string, expect: ReceiptExpectations = {}): VerifiedReceipt {
  const env = receipt as ReceiptEnvelope | null;
  if (typeof env !== 'object' || env === null || typeof env.body !== 'object' || env.body === null) {
    throw new InfermarketError('ERR_VALIDATION', '"receipt" must be a signed envelope object with a "body"');
  }
  if (env.type !== 'job.receipt') throw new InfermarketError('ERR_VALIDATION', `"receipt.type" must be "job.receipt", got ${JSON.stringify(env.type)}`);
  if (typeof marketKey !== 'string' || !/^[0-9a-f]{64}$/.test(marketKey)) {
    throw new InfermarketError('ERR_VALIDATION', '"marketKey" must be the market\'s 32-byte ed25519 public key in hex');
  }
  if (env.signer !== marketKey) throw new InfermarketError('ERR_BAD_SIGNATURE', `receipt is signed by ${String(env.signer).slice(0, 16)}…, not by the market key ${marketKey.slice(0, 16)}…`);
  if (typeof env.sig !== 'string' || !verifyMessage(env.signer, env.type, env.body, env.sig)) {
    throw new InfermarketError('ERR_BAD_SIGNATURE', 'receipt signature does not verify against the market key: it was forged or altered');
  }
  const b = env.body as unknown as Record<string, unknown>;
  for (const f of ['priceMicro', 'paidMicro'] as const) {
    const v = b[f];
    if (!(typeof v === 'bigint' || (typeof v === 'string' && AMOUNT.test(v)))) throw new InfermarketError('ERR_VALIDATION', `"receipt.body.${f}" must be a decimal amount, got ${JSON.stringify(String(v))}`);
  }
  const body: ReceiptBody = {
    jobId: String(b.jobId),
    model: String(b.model),
    client: String(b.client),
    inputHash: String(b.inputHash),
    outputHash: b.outputHash === null ? null : String(b.outputHash),
    miner: b.miner === null ? null : String(b.miner),
    status: b.status === 'settled' ? 'settled' : 'failed',
    priceMicro: BigInt(b.priceMicro as string),
    paidMicro: BigInt(b.paidMicro as string),
    audited: b.audited === true,
    finishedAtMs: Number(b.finishedAtMs),
    // a receipt signed before verification levels existed claims no check: read it as unchecked, never as verified
    verification: (VERIFICATION_LEVELS as readonly unknown[]).includes(b.verification) ? (b.verification as VerificationLevel) : 'sampled',
    verdict: VERDICTS.includes(b.verdict as Verdict) ? (b.verdict as Verdict) : 'unchecked',
    checkedBy: Array.isArray(b.checkedBy) ? b.checkedBy.map(String) : [],
    auditors: Array.isArray(b.auditors) ? b.auditors.map(String) : [],
    outputLength: typeof b.outputLength === 'number' ? b.outputLength : null,
    expectedLength: typeof b.expectedLength === 'number' ? b.expectedLength : null,
    flaggedTokens: Array.isArray(b.flaggedTokens) ? b.flaggedTokens.map(Number) : [],
  };
  const verified = body.verdict === 'verified' && body.status === 'settled' && (body.outputLength === null || body.outputLength === body.expectedLength);
  const full: VerifiedReceipt = { ...body, verified, checked: describeChecks(body) };
  if (expect.jobId !== undefined && body.jobId !== expect.jobId) throw new InfermarketError('ERR_VALIDATION', `receipt is for job ${body.jobId}, expected ${expect.jobId}`);
  if (expect.inputHash !== undefined && body.inputHash !== expect.inputHash) throw new InfermarketError('ERR_VALIDATION', `receipt "inputHash" ${body.inputHash} differs from the submitted input's ${expect.inputHash}`);
  if (expect.client !== undefined && body.client !== expect.client) throw new InfermarketError('ERR_VALIDATION', `receipt "client" ${body.client} is not ${expect.client}`);
  if (expect.output !== undefined && expect.output !== null) {
    const h = hashPayload(expect.output);
    if (body.outputHash !== h) throw new InfermarketError('ERR_VALIDATION', `receipt "outputHash" ${body.outputHash} differs from the received output's ${h}`);
  }
  return full;
}
