import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { InfermarketError, type Effect, type MarketEvent } from '@infermarket/protocol';
import { decodeJson, encodeEvent, encodeJson } from './codec.js';

/** A row of the `jobs` table: the materialised view of a job for queries, plus what only the driver knows. */
export interface JobRow {
  id: string;
  client: string;
  model: string;
  status: string;
  failure: string | null;
  miner: string | null;
  priceMicro: string;
  maxPriceMicro: string;
  audited: boolean;
  submittedAtMs: number;
  finishedAtMs: number;
  ttftMs: number | null;
  latencyMs: number | null;
  /** The miner's signed result envelope, JSON. */
  result: string | null;
  /** The market's signed receipt envelope, JSON. */
  receipt: string | null;
}

/** A job input or output kept beside the log (private jobs would keep only ciphertext here). */
export interface PayloadRow {
  jobId: string;
  /** `input`, `output` (the miner's), or `audit:<address>` (a validator's re-execution). */
  kind: string;
  body: unknown;
}

/** One accepted event with everything written in its transaction. */
export interface CommitItem {
  /** `state.seq` after the event was applied. */
  seq: number;
  event: MarketEvent;
  effects: readonly Effect[];
  payloads?: readonly PayloadRow[];
  jobs?: readonly JobRow[];
}

/** The market's SQLite file: an append-only event log, the journal, job views and payloads. */
export interface MarketStore {
  readonly path: string;
  /** Write events, their journal entries, payloads and job rows in ONE transaction. */
  commit(items: readonly CommitItem[]): void;
  /** Every stored event in order, for replay. */
  events(): IterableIterator<MarketEvent>;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  payload(jobId: string, kind: string): unknown;
  /** Job rows not yet finished plus the extras of all jobs (ttft, receipts), keyed by id. */
  jobRows(): Map<string, JobRow>;
  job(id: string): JobRow | undefined;
  /** Jobs from the materialised view, newest first, optionally by status and client. */
  listJobs(filter: { status?: string; client?: string; limit: number }): JobRow[];
  /** The audit-seed epochs begun so far, oldest first: `seq` order of their `epoch.begin` events. */
  epochs(): { atMs: number; seed: string }[];
  counts(): { events: number; journal: number; jobs: number; payloads: number };
  close(): void;
}

// The log is written one row per commit: `events.body` holds the commit's events (seq … last_seq) as a JSON
// array (raw-deflated when large: a batch of events compresses ~5-10×, and bytes written are the cost that
// remains once rows are few) and `journal_log.entries` their journal lines, so a batch of thousands of
// events is two rows, not thousands. `journal` is a view with one row per line; `epochs` lists the seeds.
const SAFE = /^[A-Za-z0-9._:-]*$/;
/** Bodies larger than this (batched commits) are stored deflated. */
const COMPRESS_ABOVE = 16 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS epochs (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, seed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal_log (seq INTEGER PRIMARY KEY, entries TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS journal AS
  SELECT json_extract(e.value, '$[0]') AS seq, json_extract(e.value, '$[1]') AS from_acct, json_extract(e.value, '$[2]') AS to_acct,
         json_extract(e.value, '$[3]') AS amount_micro, json_extract(e.value, '$[4]') AS reason, json_extract(e.value, '$[5]') AS ref,
         json_extract(e.value, '$[6]') AS at_ms
  FROM journal_log l, json_each(l.entries) e;
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, client TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL, failure TEXT,
  miner TEXT, price_micro TEXT NOT NULL, max_price_micro TEXT NOT NULL, audited INTEGER NOT NULL,
  submitted_at_ms INTEGER NOT NULL, finished_at_ms INTEGER NOT NULL, ttft_ms INTEGER, latency_ms INTEGER,
  result TEXT, receipt TEXT);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS payloads (job_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, kind));
`;

interface RawJob {
  id: string;
  client: string;
  model: string;
  status: string;
  failure: string | null;
  miner: string | null;
  price_micro: string;
  max_price_micro: string;
  audited: number;
  submitted_at_ms: number;
  finished_at_ms: number;
  ttft_ms: number | null;
  latency_ms: number | null;
  result: string | null;
  receipt: string | null;
}

function fromRaw(r: RawJob): JobRow {
  return {
    id: r.id,
    client: r.client,
    model: r.model,
    status: r.status,
    failure: r.failure,
    miner: r.miner,
    priceMicro: r.price_micro,
    maxPriceMicro: r.max_price_micro,
    audited: r.audited === 1,
    submittedAtMs: r.submitted_at_ms,
    finishedAtMs: r.finished_at_ms,
    ttftMs: r.ttft_ms,
    latencyMs: r.latency_ms,
    result: r.result,
    receipt: r.receipt,
  };
}

/**
 * Open (or create) the market's SQLite file in WAL mode with `synchronous=NORMAL`: a commit survives a
 * process crash (SIGKILL); only an OS crash can lose the last transactions, never tear one.
 */
export function openStore(path: string): MarketStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -32768'); // 32 MiB of page cache: the log's indexes stay in memory
  // checkpoint (and fsync, under synchronous=NORMAL) every ~32 MiB of WAL rather than every 4 MiB
  db.pragma('wal_autocheckpoint = 8192');
  const cols = (db.prepare("SELECT name FROM pragma_table_info('events')").all() as { name: string }[]).map((c) => c.name);
  if (cols.length && !cols.includes('last_seq')) {
    db.close();
    throw new InfermarketError('ERR_VALIDATION', `"${path}" was written by an older market (one row per event); start with a new --db file`, { details: { field: 'db' } });
  }
  db.exec(SCHEMA);
  // many rows per statement: fewer statement executions than one per row (the log's hot path); rows are
  // written as each chunk fills, so a large batch never holds all its arguments at once
  const CHUNK = 64;
  const writer = (sql: string, cols: number) => {
    const cache = new Map<number, Database.Statement>();
    const row = `(${Array(cols).fill('?').join(', ')})`;
    let buf: unknown[] = [];
    const run = (): void => {
      const n = buf.length / cols;
      let stmt = cache.get(n);
      if (!stmt) cache.set(n, (stmt = db.prepare(`${sql} ${Array(n).fill(row).join(', ')}`)));
      stmt.run(buf);
      buf = [];
    };
    return {
      /** Append one row's values (exactly `cols` of them). */
      row(...values: unknown[]): void {
        for (const v of values) buf.push(v);
        if (buf.length >= CHUNK * cols) run();
      },
      flush(): void {
        if (buf.length) run();
      },
      reset(): void {
        buf = [];
      },
    };
  };
  const insEvents = db.prepare('INSERT INTO events (seq, last_seq, body) VALUES (?, ?, ?)');
  const insEntries = db.prepare('INSERT INTO journal_log (seq, entries) VALUES (?, ?)');
  const insEpoch = db.prepare('INSERT INTO epochs (seq, at_ms, seed) VALUES (?, ?, ?)');
  const insPayload = db.prepare('INSERT OR REPLACE INTO payloads (job_id, kind, body) VALUES (?, ?, ?)');
  const upJobs = writer(`INSERT OR REPLACE INTO jobs (id, client, model, status, failure, miner, price_micro, max_price_micro, audited,
    submitted_at_ms, finished_at_ms, ttft_ms, latency_ms, result, receipt) VALUES`, 15);
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  const getPayload = db.prepare<[string, string], { body: string }>('SELECT body FROM payloads WHERE job_id = ? AND kind = ?');
  const getJob = db.prepare<[string], RawJob>('SELECT * FROM jobs WHERE id = ?');

  const commitTx = db.transaction((items: readonly CommitItem[]) => {
    const evs: string[] = [];
    const lines: string[] = [];
    for (const item of items) {
      evs.push(encodeEvent(item.event));
      if (item.event.type === 'epoch.begin') insEpoch.run(item.seq, item.event.atMs, item.event.seed);
      for (const fx of item.effects) {
        if (fx.type !== 'ledger.entry') continue;
        const e = fx.entry;
        // account names, reasons and refs are addresses and job ids ([A-Za-z0-9._:-]): no JSON escaping needed
        lines.push(
          SAFE.test(e.from) && SAFE.test(e.to) && SAFE.test(e.ref)
            ? `[${item.seq},"${e.from}","${e.to}","${e.amountMicro}","${e.reason}","${e.ref}",${e.atMs}]`
            : JSON.stringify([item.seq, e.from, e.to, e.amountMicro.toString(), e.reason, e.ref, e.atMs]),
        );
      }
      for (const p of item.payloads ?? []) insPayload.run(p.jobId, p.kind, encodeJson(p.body));
    }
    const first = items[0]!.seq;
    if (items[items.length - 1]!.seq - first + 1 !== items.length) {
      throw new InfermarketError('ERR_INTERNAL', `a commit must hold consecutive events, got seq ${first}…${items[items.length - 1]!.seq} for ${items.length} events`);
    }
    const body = `[${evs.join(',')}]`;
    insEvents.run(first, items[items.length - 1]!.seq, body.length > COMPRESS_ABOVE ? deflateRawSync(body, { level: 1 }) : body);
    if (lines.length) insEntries.run(first, `[${lines.join(',')}]`);
    // a job touched by several events of the batch is written once, in its latest form
    const latest = new Map<string, JobRow>();
    for (const item of items) for (const j of item.jobs ?? []) latest.set(j.id, j);
    for (const j of latest.values()) {
      upJobs.row(j.id, j.client, j.model, j.status, j.failure, j.miner, j.priceMicro, j.maxPriceMicro, j.audited ? 1 : 0,
        j.submittedAtMs, j.finishedAtMs, j.ttftMs, j.latencyMs, j.result, j.receipt);
    }
    upJobs.flush();
  });
  const commit = (items: readonly CommitItem[]): void => {
    try {
      commitTx(items);
    } catch (e) {
      // rolled back: drop half-filled chunks so the next commit starts clean
      upJobs.reset();
      throw e;
    }
  };

  return {
    path,
    commit(items) {
      if (items.length) commit(items);
    },
    *events() {
      const it = db.prepare<[], { body: string | Buffer }>('SELECT body FROM events ORDER BY seq').iterate();
      for (const row of it) yield* decodeJson<MarketEvent[]>(typeof row.body === 'string' ? row.body : inflateRawSync(row.body).toString('utf8'));
    },
    getMeta(key) {
      return getMeta.get(key)?.value;
    },
    setMeta(key, value) {
      setMeta.run(key, value);
    },
    payload(jobId, kind) {
      const row = getPayload.get(jobId, kind);
      return row ? decodeJson(row.body) : undefined;
    },
    jobRows() {
      const out = new Map<string, JobRow>();
      for (const r of db.prepare<[], RawJob>('SELECT * FROM jobs').iterate()) out.set(r.id, fromRaw(r));
      return out;
    },
    job(id) {
      const r = getJob.get(id);
      return r ? fromRaw(r) : undefined;
    },
    listJobs(f) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (f.status) {
        where.push('status = ?');
        args.push(f.status);
      }
      if (f.client) {
        where.push('client = ?');
        args.push(f.client);
      }
      args.push(f.limit);
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY submitted_at_ms DESC, id LIMIT ?`;
      return (db.prepare(sql).all(...args) as RawJob[]).map(fromRaw);
    },
    epochs() {
      return db.prepare<[], { atMs: number; seed: string }>('SELECT at_ms AS atMs, seed FROM epochs ORDER BY seq').all();
    },
    counts() {
      const c = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
      const events = (db.prepare('SELECT COALESCE(SUM(last_seq - seq + 1), 0) AS n FROM events').get() as { n: number }).n;
      const journal = (db.prepare('SELECT COALESCE(SUM(json_array_length(entries)), 0) AS n FROM journal_log').get() as { n: number }).n;
      return { events, journal, jobs: c('jobs'), payloads: c('payloads') };
    },
    close() {
      if (db.open) db.close();
    },
  };
}
