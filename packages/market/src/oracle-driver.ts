import { InfermarketError, MAX_ORACLE_PRICE_MICRO } from '@infermarket/protocol';
import type { Logger } from 'pino';
import type { MarketCore } from './core.js';

/**
 * The live market's oracle (docs/economics.md, "Who sets the price"). The market process is the only party
 * that publishes `oracle.price`: it reads a price path given at start — the seeded price process of the
 * scenario (`pricePath` in `@infermarket/agents`, computed by the testnet from the scenario and seed, the same
 * code and the same path the simulator publishes) or an operator's price file — and steps the unsigned
 * `oracle.price` event at each point's time, measured on the market clock from the oracle's origin. No wire
 * message or HTTP route maps to `oracle.price`: a participant (client, miner, validator, anyone with a key)
 * cannot move the price the rules convert at. The path and its origin are kept in the database, so a
 * restarted market continues the same path where the clock stands (time the market was down is not counted).
 */
export interface OraclePath {
  /** `[atMs, priceMicro]` pairs: ms after the oracle's origin (the first must be 0), micro-USD per IMT. */
  points: readonly (readonly [number, number | string | bigint])[];
  /** Where the path came from, recorded in `/v1/oracle` and the report (e.g. `gbm σ=2 seed=16` or a file name). */
  source?: string;
}

/** A validated path: strictly increasing times from 0, prices positive integers ≤ `MAX_ORACLE_PRICE_MICRO`. */
export interface CheckedOraclePath {
  points: { atMs: number; priceMicro: bigint }[];
  source: string;
}

/**
 * Validate a price path before anything is published.
 * @throws InfermarketError `ERR_VALIDATION` naming the point (`oracle.points[i]`): a time not increasing or not
 * starting at 0, a price of 0, negative, not an integer, or above 10^18 micro-USD.
 */
export function checkOraclePath(path: OraclePath): CheckedOraclePath {
  const pts = path.points;
  if (!Array.isArray(pts) || pts.length === 0) {
    throw new InfermarketError('ERR_VALIDATION', '"oracle.points" must be a non-empty list of [atMs, priceMicro]', { details: { field: 'oracle.points' } });
  }
  const out: { atMs: number; priceMicro: bigint }[] = [];
  pts.forEach((p, i) => {
    const field = `oracle.points[${i}]`;
    if (!Array.isArray(p) || p.length !== 2) throw new InfermarketError('ERR_VALIDATION', `"${field}" must be a pair [atMs, priceMicro], got ${JSON.stringify(p)}`, { details: { field } });
    const [atMs, raw] = p;
    const prev = out.length ? out[out.length - 1]!.atMs : -1;
    if (!Number.isSafeInteger(atMs) || atMs < 0 || atMs <= prev || (i === 0 && atMs !== 0)) {
      throw new InfermarketError('ERR_VALIDATION', `"${field}" atMs must be an integer, 0 for the first point and strictly increasing after it, got ${JSON.stringify(atMs)}`, { details: { field } });
    }
    let price: bigint | null = null;
    if (typeof raw === 'bigint') price = raw;
    else if (typeof raw === 'number' && Number.isSafeInteger(raw)) price = BigInt(raw);
    else if (typeof raw === 'string' && /^-?[0-9]{1,40}$/.test(raw)) price = BigInt(raw);
    if (price === null || price <= 0n || price > MAX_ORACLE_PRICE_MICRO) {
      throw new InfermarketError('ERR_VALIDATION', `"${field}" priceMicro must be a positive integer price in micro-USD per IMT ≤ ${MAX_ORACLE_PRICE_MICRO}, got ${JSON.stringify(typeof raw === 'bigint' ? raw.toString() : raw)}`, { details: { field } });
    }
    out.push({ atMs, priceMicro: price });
  });
  return { points: out, source: path.source ?? 'series' };
}

/** The running oracle. */
export interface OracleDriver {
  readonly source: string;
  /** Market-clock ms of the path's time 0. */
  readonly originMs: number;
  /** Points published so far by this process (not counting a previous run's). */
  published(): number;
  /** Publish the point due now on the market clock (if it changes the price) and re-arm for the next: what the timer calls. */
  poll(): void;
  stop(): void;
}

/**
 * Publish `path` on `core`: the point due now at once (so a token-mode market has a price before it serves a
 * job), then each next point at its time. The origin is the market clock at the first start, kept in the
 * database (`oracleOriginMs`) with the path (`oraclePath`); a database that already has a path keeps it and a
 * different one given now is refused, so one market never mixes two price processes.
 * @throws InfermarketError `ERR_VALIDATION` for a bad path, or a path that differs from the database's.
 */
export function startOracleDriver(core: MarketCore, path: CheckedOraclePath, logger: Logger): OracleDriver {
  const encoded = JSON.stringify({ source: path.source, points: path.points.map((p) => [p.atMs, p.priceMicro.toString()]) });
  const stored = core.store.getMeta('oraclePath');
  if (stored !== undefined && stored !== encoded) {
    throw new InfermarketError('ERR_VALIDATION', `the database ${core.store.path} already follows another IMT price path; start a new database for a new path, or give the same one`, { details: { field: 'oracle' } });
  }
  if (stored === undefined) core.store.setMeta('oraclePath', encoded);
  const storedOrigin = core.store.getMeta('oracleOriginMs');
  const originMs = storedOrigin !== undefined ? Number(storedOrigin) : core.now();
  if (storedOrigin === undefined) core.store.setMeta('oracleOriginMs', String(originMs));
  let next = 0;
  let count = 0;
  let handle: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = (): void => {
    if (handle) clearTimeout(handle);
    handle = null;
    if (stopped) return;
    const elapsed = core.now() - originMs;
    // after a restart (or a stalled loop) only the latest due point is published: the price is "now", not a replay
    let due = -1;
    while (next < path.points.length && path.points[next]!.atMs <= elapsed) due = next++;
    if (due >= 0) {
      const p = path.points[due]!;
      const cur = core.state.oracle;
      if (!cur || cur.priceMicro !== p.priceMicro) {
        try {
          core.step({ type: 'oracle.price', atMs: core.now(), priceMicro: p.priceMicro });
          count++;
        } catch (err) {
          logger.error({ err }, 'oracle.price rejected');
        }
      }
    }
    if (next < path.points.length) handle = setTimeout(tick, Math.max(0, path.points[next]!.atMs - (core.now() - originMs)));
  };
  tick();
  return {
    source: path.source,
    originMs,
    published: () => count,
    poll: tick,
    stop() {
      stopped = true;
      if (handle) clearTimeout(handle);
    },
  };
}
