import type { Effect, MarketEvent } from './types.js';

/**
 * One row per job for people's own analysis (`jobs.csv`, loaded in pandas): built from the protocol's
 * events and effects alone, so the live market and the simulator write the same file from the same code.
 */

/** What the log knows about one job. Times are on the market's (or the simulator's virtual) clock. */
export interface JobLogRow {
  id: string;
  model: string;
  client: string;
  miner: string | null;
  /** Winning bid of the last assignment, micro-mUSD. */
  priceMicro: bigint;
  status: 'open' | 'settled' | 'failed';
  failure: string | null;
  /** Assignments tried. */
  attempts: number;
  submittedAtMs: number;
  /** When the (last) miner committed its result: latency = this − submit. */
  resultAtMs: number | null;
  finishedAtMs: number | null;
  /** Submit → first token or result (the market's measure; `null` when unknown). */
  ttftMs: number | null;
  audited: boolean;
  disputed: boolean;
  /** Someone (miner or validator) lost stake over this job. */
  slashed: boolean;
}

/** How the CSV names nodes: instance name, strategy, claimed variant (empty when unknown). */
export interface JobLogLabels {
  name?(address: string): string | undefined;
  strategy?(address: string): string | undefined;
  variant?(address: string): string | undefined;
}

/** The columns of `jobs.csv`, in order. */
export const JOBS_CSV_COLUMNS = Object.freeze([
  'job_id', 'model', 'variant', 'client', 'miner', 'miner_name', 'miner_strategy', 'price_micro', 'status', 'failure',
  'attempts', 'submitted_at_ms', 'finished_at_ms', 'latency_ms', 'ttft_ms', 'audited', 'disputed', 'slashed',
] as const);

/** A job log fed with every accepted event and its effects. */
export interface JobLog {
  observe(event: MarketEvent, effects: readonly Effect[]): void;
  /** Record the time to first token of a job (the market measures it outside the rules). */
  setTtft(jobId: string, ttftMs: number | null): void;
  rows(): readonly JobLogRow[];
  /** The CSV text: a header line, then one line per job in submit order. */
  toCsv(labels?: JobLogLabels): string;
}

/** Create an empty job log. */
export function createJobLog(): JobLog {
  const rows = new Map<string, JobLogRow>();
  return {
    observe(event, effects) {
      if (event.type === 'job.submit' && !rows.has(event.jobId)) {
        rows.set(event.jobId, {
          id: event.jobId, model: event.model, client: event.by, miner: null, priceMicro: 0n, status: 'open', failure: null,
          attempts: 0, submittedAtMs: event.atMs, resultAtMs: null, finishedAtMs: null, ttftMs: null, audited: false, disputed: false, slashed: false,
        });
      }
      for (const e of effects) {
        if (!('jobId' in e) || typeof e.jobId !== 'string') continue;
        const r = rows.get(e.jobId);
        if (!r) continue;
        switch (e.type) {
          case 'job.assigned':
            r.miner = e.miner;
            r.priceMicro = e.priceMicro;
            r.attempts = e.attempt;
            break;
          case 'job.committed':
            r.audited = e.audited;
            r.resultAtMs = event.atMs;
            break;
          case 'dispute.opened':
            r.disputed = true;
            break;
          case 'node.slashed':
            r.slashed = true;
            break;
          case 'job.settled':
            r.status = 'settled';
            r.finishedAtMs = event.atMs;
            break;
          case 'job.failed':
            r.status = 'failed';
            r.failure = e.reason;
            r.finishedAtMs = event.atMs;
            break;
          default:
            break;
        }
      }
    },
    setTtft(jobId, ttftMs) {
      const r = rows.get(jobId);
      if (r) r.ttftMs = ttftMs;
    },
    rows: () => [...rows.values()],
    toCsv(labels = {}) {
      const lines = [JOBS_CSV_COLUMNS.join(',')];
      for (const r of rows.values()) {
        const m = r.miner;
        lines.push(
          [
            r.id, r.model, m ? (labels.variant?.(m) ?? '') : '', r.client, m ?? '', m ? (labels.name?.(m) ?? '') : '', m ? (labels.strategy?.(m) ?? '') : '',
            r.priceMicro.toString(), r.status, r.failure ?? '', r.attempts, r.submittedAtMs, r.finishedAtMs ?? '',
            r.resultAtMs === null ? '' : r.resultAtMs - r.submittedAtMs, r.ttftMs ?? '', r.audited, r.disputed, r.slashed,
          ].map(csvField).join(','),
        );
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

/** RFC 4180 quoting where needed. */
function csvField(v: string | number | boolean): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
