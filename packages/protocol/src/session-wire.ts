// ---- WebSocket /v1/session: one persistent connection per client (docs/api.md, "Client sessions") ----
import type { Envelope } from './envelope.js';
import type { JobInput, JobStreamMessage } from './wire.js';

/**
 * Client → market on a session. Log in first with an `auth.login` envelope over the connection's challenge;
 * then every submit is still a signed `job.submit` envelope, which must be signed by the session's key.
 * `ref` (≤ 128 characters) is echoed in the `ack` or `error` that answers the frame.
 */
export type SessionClientMessage =
  | { type: 'session.login'; envelope: Envelope<'auth.login'> }
  | { type: 'job.submit'; ref?: string; envelope: Envelope<'job.submit'>; input: JobInput }
  /** Follow one of this client's jobs submitted elsewhere (HTTP, an earlier session): what it missed, then live. */
  | { type: 'job.watch'; ref?: string; jobId: string }
  /** Private jobs: a job key sealed to one party (as `POST /v1/jobs/:id/keys`). */
  | { type: 'job.key'; ref?: string; envelope: Envelope<'job.key'> };

/**
 * Market → client on a session: the challenge, the login answer, `ack`s (sent only once what the frame
 * caused is written to the market's log), errors, and every `JobStreamMessage` of the session's jobs
 * (tokens, `result`, `restart`, `key.request`, `done` with the final view and receipt).
 */
export type SessionServerMessage =
  | { type: 'session.challenge'; challenge: string; marketKey: string }
  | { type: 'session.ok'; address: string; nowMs: number }
  | { type: 'ack'; ref: string; jobId?: string }
  | { type: 'error'; code: string; message: string; ref?: string }
  | JobStreamMessage;
