/**
 * Every error code infermarket can return, with the HTTP status the market maps it to.
 * The README's error table is generated from, and tested against, this object.
 */
export const ERROR_CODES = {
  ERR_INVALID_PARAM: { status: 400, meaning: 'A protocol parameter is out of range or inconsistent with another.' },
  ERR_VALIDATION: { status: 400, meaning: 'A request or message field is missing, malformed or out of range.' },
  ERR_BAD_ENCODING: { status: 400, meaning: 'A value cannot be canonically encoded (non-integer number, undefined, cycle).' },
  ERR_BAD_SIGNATURE: { status: 401, meaning: 'An envelope signature does not verify against its signer key.' },
  ERR_REPLAY: { status: 409, meaning: 'A signed message was already seen (its sequence number used, or 1024 or more below the signer’s newest) or has expired.' },
  ERR_UNKNOWN_ACCOUNT: { status: 404, meaning: 'The account is not registered in the role the action needs.' },
  ERR_UNKNOWN_JOB: { status: 404, meaning: 'No job with this id.' },
  ERR_UNKNOWN_MODEL: { status: 400, meaning: 'The model id is not in the models manifest.' },
  ERR_DUPLICATE: { status: 409, meaning: 'The id is already in use (job, registration, bid, vote).' },
  ERR_INSUFFICIENT_BALANCE: { status: 402, meaning: 'The account balance cannot cover the amount.' },
  ERR_INSUFFICIENT_STAKE: { status: 403, meaning: 'Bonded stake is below the amount asked for or below the role minimum.' },
  ERR_FAUCET_CAP: { status: 429, meaning: 'The faucet cap for this account would be exceeded.' },
  ERR_NOT_ELIGIBLE: { status: 403, meaning: 'The node may not take this action now (jailed, ejected, wrong model or region).' },
  ERR_WRONG_STATE: { status: 409, meaning: 'The job or dispute is not in a state that accepts this action.' },
  ERR_NOT_ASSIGNED: { status: 403, meaning: 'The sender is not the miner, validator or referee assigned to this job.' },
  ERR_BAD_PROOF: { status: 400, meaning: 'A bisection move opens a trace boundary with a Merkle proof that does not verify against the committed trace root.' },
  ERR_LATE: { status: 409, meaning: 'The window or deadline for this action has passed.' },
  ERR_PRICE_TOO_HIGH: { status: 400, meaning: 'The bid price plus fees exceeds the job\'s escrowed maximum price.' },
  ERR_NOT_FOUND: { status: 404, meaning: 'No such route or resource.' },
  ERR_BODY_TOO_LARGE: { status: 413, meaning: 'The request body exceeds the size limit.' },
  ERR_BAD_JSON: { status: 400, meaning: 'The request body is not valid JSON.' },
  ERR_UNAUTHENTICATED: { status: 401, meaning: 'Not authenticated: a WebSocket peer that has not logged in, or a missing, expired or foreign read token for a job\'s data.' },
  ERR_RATE_LIMITED: { status: 429, meaning: 'Too many messages or bytes; a WebSocket connection over its budget is then closed with code 4029.' },
  ERR_BAD_INPUT: { status: 400, meaning: 'A model input has the wrong shape, dtype or size.' },
  ERR_BAD_OUTPUT: { status: 400, meaning: 'A miner\'s output is short, long or malformed for what the input asked (wrong token count, tensor dims or dtype).' },
  ERR_BAD_BATCH: { status: 400, meaning: 'A batch job\'s `rows` is not 1 to `maxBatchRows`, does not match its input\'s batch dim, or is used where one row is required (a private job, a generation model).' },
  ERR_MODEL_TAMPERED: { status: 500, meaning: 'A model file\'s sha256 does not match the manifest; it is refused.' },
  ERR_EP_UNAVAILABLE: { status: 500, meaning: 'The requested execution provider is not installed.' },
  ERR_DECRYPT: { status: 400, meaning: 'A sealed box cannot be opened: wrong recipient key, or tampered ciphertext.' },
  ERR_KEY_MISMATCH: { status: 400, meaning: 'An encryption key is not the one its owner signed (a swapped key).' },
  ERR_BAD_SCENARIO: { status: 400, meaning: 'A scenario file does not match the scenario schema, reuses a group name or names an unknown model.' },
  ERR_KEY_IN_USE: { status: 409, meaning: 'A key file is already used by another running process (its lock file names the pid).' },
  ERR_STARTUP: { status: 500, meaning: 'A testnet node exited during start-up, or a model the clients use has no registered miner.' },
  ERR_BAD_STRATEGY: { status: 400, meaning: 'A strategy module (`--strategy ./x.js`, a scenario group\'s module path) is missing or has the wrong shape.' },
  ERR_BAD_COMPARATOR: { status: 500, meaning: 'A model\'s comparator spec is malformed; the comparison that decides a slash refuses to guess.' },
  ERR_BAD_HTTP: { status: 400, meaning: 'The request is not well-formed HTTP (request line, header, or URL encoding).' },
  ERR_TIMEOUT: { status: 408, meaning: 'The request was not received in full in time.' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The request body is not "content-type: application/json".' },
  ERR_URI_TOO_LONG: { status: 414, meaning: 'A path parameter is longer than the router accepts (ids are at most 128 characters).' },
  ERR_HEADERS_TOO_LARGE: { status: 431, meaning: 'The request line and headers exceed the server\'s header size limit.' },
  ERR_INTERNAL: { status: 500, meaning: 'An unexpected error; the message and logs say more.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error type of infermarket: a stable `code`, a message naming the field, optional details. */
export class InfermarketError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, options?: { details?: Record<string, unknown>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InfermarketError';
    this.code = code;
    this.details = options?.details;
  }
  /** HTTP status the market answers with for this error. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** Shorthand used by the rules: throw a coded error. */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new InfermarketError(code, message, details ? { details } : undefined);
}
