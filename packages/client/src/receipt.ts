import { hashPayload, InfermarketError, verifyMessage, type Envelope, type JobOutput, type ReceiptBody } from '@infermarket/protocol';

/** A receipt as it arrives in JSON: the market's signed `job.receipt` envelope (amounts as decimal strings). */
export type ReceiptEnvelope = Envelope<'job.receipt'>;

/** What a verified receipt says, amounts as bigint. */
export interface VerifiedReceipt extends ReceiptBody {}

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
  const body: VerifiedReceipt = {
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
  };
  if (expect.jobId !== undefined && body.jobId !== expect.jobId) throw new InfermarketError('ERR_VALIDATION', `receipt is for job ${body.jobId}, expected ${expect.jobId}`);
  if (expect.inputHash !== undefined && body.inputHash !== expect.inputHash) throw new InfermarketError('ERR_VALIDATION', `receipt "inputHash" ${body.inputHash} differs from the submitted input's ${expect.inputHash}`);
  if (expect.client !== undefined && body.client !== expect.client) throw new InfermarketError('ERR_VALIDATION', `receipt "client" ${body.client} is not ${expect.client}`);
  if (expect.output !== undefined && expect.output !== null) {
    const h = hashPayload(expect.output);
    if (body.outputHash !== h) throw new InfermarketError('ERR_VALIDATION', `receipt "outputHash" ${body.outputHash} differs from the received output's ${h}`);
  }
  return body;
}
