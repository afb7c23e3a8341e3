import { VERIFICATION_LEVELS } from '@infermarket/protocol';
import { Type, type TSchema } from 'typebox';

// TypeBox (JSON Schema) for every HTTP request. Unknown fields are refused (additionalProperties: false,
// and the market turns off ajv's removeAdditional so they are not silently dropped).

const strict = { additionalProperties: false } as const;

/** A decimal string of micro-mUSD. */
export const AmountMicro = Type.String({ pattern: '^[0-9]{1,40}$', description: 'decimal string of micro-mUSD' });
export const Address = Type.String({ pattern: '^im[0-9a-f]{40}$', description: 'infermarket address' });
export const JobId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** The signer's sequence number (replay protection: a window per signer, docs/api.md). */
export const Nonce = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: "the signer's sequence number: a decimal integer 1 … 2^53-1, fresh per signed message (the market keeps a window of 1024 per signer)" });

export const FaucetBody = Type.Object({ address: Address, amountMicro: AmountMicro }, strict);
/** The market's faucet: `token` picks the ledger (default mUSD); the cap `faucetCapMicro` is per token. */
export const MarketFaucetBody = Type.Object({ address: Address, amountMicro: AmountMicro, token: Type.Optional(Type.Union([Type.Literal('mUSD'), Type.Literal('IMT')])) }, strict);
export const AddressParams = Type.Object({ address: Address }, strict);
export const JobParams = Type.Object({ id: JobId }, strict);

const WireTensor = Type.Object(
  {
    dtype: Type.Union([Type.Literal('float32'), Type.Literal('int32'), Type.Literal('int64'), Type.Literal('uint8'), Type.Literal('float16')]),
    dims: Type.Array(Type.Integer({ minimum: 0, maximum: 1 << 20 }), { maxItems: 8 }),
    data: Type.String({ maxLength: 4 << 20 }),
  },
  strict,
);
const SealedBox = Type.Object({ to: Type.String({ maxLength: 128 }), from: Type.String({ maxLength: 128 }), nonce: Type.String({ maxLength: 128 }), ciphertext: Type.String() }, strict);

export const JobInputSchema = Type.Union([
  Type.Object({ kind: Type.Literal('tensor'), tensor: WireTensor }, strict),
  Type.Object({ kind: Type.Literal('prompt'), prompt: Type.String({ maxLength: 1 << 16 }), maxTokens: Type.Integer(), temperature: Type.Number(), seed: Type.Integer() }, strict),
  Type.Object({ kind: Type.Literal('sealed'), sealed: SealedBox }, strict),
]);

export const SubmitJobBody = Type.Object(
  {
    envelope: Type.Object(
      {
        type: Type.Literal('job.submit'),
        body: Type.Object(
          {
            jobId: JobId,
            model: Type.String({ maxLength: 64 }),
            inputHash: Hex64,
            maxPriceMicro: AmountMicro,
            regions: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
            private: Type.Optional(Type.Boolean()),
            verification: Type.Optional(Type.Union(VERIFICATION_LEVELS.map((l) => Type.Literal(l)))),
            // any integer: the rules refuse 0 or more than maxBatchRows with ERR_BAD_BATCH naming "rows"
            rows: Type.Optional(Type.Integer({ description: 'batch jobs: input rows, the input tensor\'s first dim (1 … maxBatchRows, default 1); maxPriceMicro is then per row' })),
            nonce: Nonce,
            expiresAtMs: Type.Integer(),
          },
          strict,
        ),
        signer: Type.String({ maxLength: 64 }),
        sig: Type.String({ maxLength: 128 }),
      },
      strict,
    ),
    input: JobInputSchema,
  },
  strict,
);

/** A read token (`makeReadToken`): hex, in the `read` query (or the `x-infermarket-read` header). */
const ReadToken = Type.String({ pattern: '^[0-9a-f]{2,4096}$', maxLength: 4096 });

export const JobReadQuery = Type.Object({ read: Type.Optional(ReadToken) }, strict);

export const JobListQuery = Type.Object(
  {
    read: Type.Optional(ReadToken),
    status: Type.Optional(Type.Union(['bidding', 'assigned', 'committed', 'auditing', 'disputed', 'settled', 'failed'].map((v) => Type.Literal(v)))),
    client: Type.Optional(Address),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'at most 1000' })),
  },
  strict,
);

/** POST /v1/jobs/:id/keys: the client's signed job key for one party of a private job (`JobKeyBody`). */
export const JobKeyBodySchema = Type.Object(
  {
    envelope: Type.Object(
      {
        type: Type.Literal('job.key'),
        body: Type.Object(
          {
            jobId: JobId,
            to: Address,
            sealed: SealedBox,
            nonce: Nonce,
            expiresAtMs: Type.Integer(),
          },
          strict,
        ),
        signer: Type.String({ maxLength: 64 }),
        sig: Type.String({ maxLength: 128 }),
      },
      strict,
    ),
  },
  strict,
);

// ---- WebSocket /v1/nodes: the bisection game's node messages (docs/verification.md "Disputes by bisection") ----

/** A boundary index of a committed trace (0..MAX_TRACE_LAYERS). */
const BoundaryIndex = Type.Integer({ minimum: 0, maximum: 64 });
const Ref = Type.Optional(Type.String({ maxLength: 128 }));
/** A signed envelope of `type` over `body` (the signature is checked by `openEnvelope`, not here). */
const SignedEnvelope = <B extends Record<string, TSchema>>(type: string, body: B) =>
  Type.Object(
    {
      type: Type.Literal(type),
      body: Type.Object({ jobId: JobId, ...body, nonce: Nonce, expiresAtMs: Type.Integer() }, strict),
      signer: Type.String({ maxLength: 64 }),
      sig: Type.String({ maxLength: 128 }),
    },
    strict,
  );

/** `bisect.reveal`: the miner opens boundary `index` of its committed trace; `tensor` must hash (`wireTensorHash`) to `boundaryHash`. */
export const BisectRevealMessage = Type.Object(
  {
    type: Type.Literal('bisect.reveal'),
    ref: Ref,
    envelope: SignedEnvelope('bisect.reveal', { index: BoundaryIndex, boundaryHash: Hex64, proof: Type.Array(Hex64, { maxItems: 8 }) }),
    tensor: WireTensor,
  },
  strict,
);
/** `bisect.respond`: the challenger agrees (`true`) or not with the boundary the miner opened. */
export const BisectRespondMessage = Type.Object({ type: Type.Literal('bisect.respond'), ref: Ref, envelope: SignedEnvelope('bisect.respond', { index: BoundaryIndex, agree: Type.Boolean() }) }, strict);
/** `bisect.vote`: a referee's vote on the disputed segment `fromIndex → toIndex`. */
export const BisectVoteMessage = Type.Object(
  { type: Type.Literal('bisect.vote'), ref: Ref, envelope: SignedEnvelope('bisect.vote', { fromIndex: BoundaryIndex, toIndex: BoundaryIndex, minerCorrect: Type.Boolean() }) },
  strict,
);
