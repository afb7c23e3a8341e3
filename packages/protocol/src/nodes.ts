import { InfermarketError } from './errors.js';
import { balanceOf, bpsOf, transfer } from './ledger.js';
import type { AccountName, Effect, Job, MarketEvent, MarketState, NodeRecord, Role } from './types.js';

type Ev<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>;

/** The node registered at `address`, or a coded error. */
export function getNode(state: MarketState, address: string, role?: Role): NodeRecord {
  const node = state.nodes.get(address);
  if (!node || (role && node.role !== role)) {
    throw new InfermarketError('ERR_UNKNOWN_ACCOUNT', `${address} is not a registered ${role ?? 'node'}`, { details: { field: 'by' } });
  }
  return node;
}

const REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Register a miner or validator (once per address), with the models it serves, its region and its encryption key. */
export function registerNode(state: MarketState, ev: Ev<'node.register'>, out: Effect[]): void {
  if (ev.role !== 'miner' && ev.role !== 'validator') {
    throw new InfermarketError('ERR_VALIDATION', `"role" must be "miner" or "validator", got ${JSON.stringify(ev.role)}`);
  }
  if (!Array.isArray(ev.models) || ev.models.length === 0 || ev.models.length > 32) {
    throw new InfermarketError('ERR_VALIDATION', '"models" must be a non-empty list of at most 32 model ids');
  }
  for (const m of ev.models) {
    if (typeof m !== 'string' || !MODEL.test(m)) throw new InfermarketError('ERR_VALIDATION', `"models" has an invalid model id ${JSON.stringify(m)}`);
    if (!state.models.has(m)) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"models" names unknown model "${m}"; known: ${[...state.models].join(', ')}`);
  }
  if (typeof ev.region !== 'string' || !REGION.test(ev.region)) {
    throw new InfermarketError('ERR_VALIDATION', `"region" must be a lower-case name like "eu-west", got ${JSON.stringify(ev.region)}`);
  }
  const key = ev.encryptionKey ?? null;
  if (key !== null && (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key))) {
    throw new InfermarketError('ERR_VALIDATION', '"encryptionKey" must be a 32-byte x25519 public key in hex');
  }
  if (state.nodes.has(ev.by)) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} is already registered`);
  state.nodes.set(ev.by, {
    address: ev.by,
    role: ev.role,
    models: [...ev.models],
    region: ev.region,
    encryptionKey: key,
    stakeMicro: 0n,
    unbonding: [],
    reputation: state.params.reputationStart,
    jailedUntilMs: 0,
    slashes: 0,
    ejected: false,
    jobsAssigned: 0,
    jobsSettled: 0,
    jobsMissed: 0,
    audits: 0,
    earnedMicro: 0n,
    slashedMicro: 0n,
    lastSeenMs: ev.atMs,
    auditsMissed: 0,
    auditMissStreak: 0,
  });
  out.push({ type: 'node.registered', address: ev.by, role: ev.role });
}

export function checkAmount(field: string, v: unknown, max?: bigint): bigint {
  if (typeof v !== 'bigint' || v <= 0n) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be a positive integer amount in micro-mUSD, got ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`);
  }
  if (max !== undefined && v > max) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be at most ${max} micro-mUSD, got ${v}`);
  }
  return v;
}

/** Move tokens from the node's balance into bonded stake. */
export function bond(state: MarketState, ev: Ev<'stake.bond'>, out: Effect[]): void {
  const node = getNode(state, ev.by);
  const amount = checkAmount('amountMicro', ev.amountMicro);
  if (node.ejected) throw new InfermarketError('ERR_NOT_ELIGIBLE', `${ev.by} was ejected and may not bond again`);
  const bal = balanceOf(state, `balance:${ev.by}`, state.params.stakeToken);
  if (bal < amount) throw new InfermarketError('ERR_INSUFFICIENT_BALANCE', `"amountMicro" ${amount} exceeds the balance ${bal} of ${ev.by}`);
  transfer(state, out, { from: `balance:${ev.by}`, to: `stake:${ev.by}`, amountMicro: amount, reason: 'bond', ref: ev.by });
  node.stakeMicro += amount;
}

/** Move bonded stake into unbonding; it is released to the balance after `unbondingPeriodMs`. */
export function unbond(state: MarketState, ev: Ev<'stake.unbond'>, out: Effect[]): void {
  const node = getNode(state, ev.by);
  const amount = checkAmount('amountMicro', ev.amountMicro);
  if (amount > node.stakeMicro) {
    throw new InfermarketError('ERR_INSUFFICIENT_STAKE', `"amountMicro" ${amount} exceeds the bonded stake ${node.stakeMicro} of ${ev.by}`);
  }
  startUnbonding(state, node, amount, out);
}

function startUnbonding(state: MarketState, node: NodeRecord, amount: bigint, out: Effect[]): void {
  if (amount === 0n) return;
  transfer(state, out, { from: `stake:${node.address}`, to: `unbonding:${node.address}`, amountMicro: amount, reason: 'unbond', ref: node.address });
  node.stakeMicro -= amount;
  const releaseAtMs = state.nowMs + state.params.unbondingPeriodMs;
  node.unbonding.push({ amountMicro: amount, releaseAtMs });
  out.push({ type: 'timer.set', atMs: releaseAtMs, timer: { kind: 'unbond', address: node.address } });
}

/** Release every unbonding chunk whose time has come. */
export function releaseUnbonding(state: MarketState, address: string, out: Effect[]): void {
  const node = state.nodes.get(address);
  if (!node) return;
  let released = 0n;
  const keep = [];
  for (const chunk of node.unbonding) {
    if (chunk.releaseAtMs <= state.nowMs) released += chunk.amountMicro;
    else keep.push(chunk);
  }
  if (released === 0n) return;
  node.unbonding = keep;
  transfer(state, out, { from: `unbonding:${address}`, to: `balance:${address}`, amountMicro: released, reason: 'withdraw', ref: address });
  out.push({ type: 'stake.released', address, amountMicro: released });
}

/** Total stake a slash can reach: bonded plus still unbonding (so unbonding cannot dodge a pending slash). */
export function slashableOf(node: NodeRecord): bigint {
  let total = node.stakeMicro;
  for (const c of node.unbonding) total += c.amountMicro;
  return total;
}

/**
 * Take `amount` out of a node's stake (bonded first, then the newest unbonding chunks) and pay it to
 * the destinations in order. Destinations' amounts must sum to `amount`.
 */
function drawStake(
  state: MarketState,
  node: NodeRecord,
  pieces: { to: AccountName; amountMicro: bigint; reason: 'slash-burn' | 'slash-challenger' | 'slash-harmed' | 'miss-penalty' | 'audit-miss-penalty' }[],
  ref: string,
  out: Effect[],
): void {
  for (const piece of pieces) {
    let left = piece.amountMicro;
    const fromStake = left < node.stakeMicro ? left : node.stakeMicro;
    if (fromStake > 0n) {
      transfer(state, out, { from: `stake:${node.address}`, to: piece.to, amountMicro: fromStake, reason: piece.reason, ref });
      node.stakeMicro -= fromStake;
      left -= fromStake;
    }
    for (let i = node.unbonding.length - 1; i >= 0 && left > 0n; i--) {
      const chunk = node.unbonding[i]!;
      const take = left < chunk.amountMicro ? left : chunk.amountMicro;
      transfer(state, out, { from: `unbonding:${node.address}`, to: piece.to, amountMicro: take, reason: piece.reason, ref });
      chunk.amountMicro -= take;
      left -= take;
    }
    node.unbonding = node.unbonding.filter((c) => c.amountMicro > 0n);
  }
}

/**
 * Slash a node for a wrong result (miner) or a false accusation (validator): take `slashFractionBps` of
 * its slashable stake, split it burn / challenger / harmed, jail it, and eject it after `maxSlashes`.
 */
export function slash(
  state: MarketState,
  node: NodeRecord,
  job: Job,
  parties: { challenger: string | null; harmed: string },
  reason: string,
  out: Effect[],
): bigint {
  const p = state.params;
  const amount = bpsOf(slashableOf(node), p.slashFractionBps);
  const burn = bpsOf(amount, p.slashBurnBps);
  const challenger = parties.challenger ? bpsOf(amount, p.slashChallengerBps) : 0n;
  // the harmed party takes the rounding remainder so the pieces sum exactly to the slash
  const harmed = amount - burn - challenger - (parties.challenger ? 0n : bpsOf(amount, p.slashChallengerBps));
  const burnTotal = amount - challenger - harmed;
  drawStake(
    state,
    node,
    [
      { to: 'burn', amountMicro: burnTotal, reason: 'slash-burn' },
      ...(parties.challenger ? [{ to: `balance:${parties.challenger}` as const, amountMicro: challenger, reason: 'slash-challenger' as const }] : []),
      { to: `balance:${parties.harmed}`, amountMicro: harmed, reason: 'slash-harmed' },
    ],
    job.id,
    out,
  );
  node.slashedMicro += amount;
  node.slashes += 1;
  node.jailedUntilMs = state.nowMs + p.jailDurationMs;
  // offers mode: a job may be waiting for this miner's offer when the jail ends (offers.ts serveWaitingFor)
  if (node.role === 'miner' && p.matchingMode === 'offers') out.push({ type: 'timer.set', atMs: node.jailedUntilMs, timer: { kind: 'jail-end', address: node.address } });
  if (node.role === 'miner') state.stats.minerSlashes++;
  else state.stats.validatorSlashes++;
  const ejected = node.slashes >= p.maxSlashes;
  if (ejected && !node.ejected) {
    node.ejected = true;
    startUnbonding(state, node, node.stakeMicro, out);
  }
  out.push({
    type: 'node.slashed',
    address: node.address,
    role: node.role,
    amountMicro: amount,
    jobId: job.id,
    reason,
    jailedUntilMs: node.jailedUntilMs,
    ejected: node.ejected,
  });
  return amount;
}

/** Penalty for a missed deadline: `missPenaltyBps` of the miner's slashable stake, paid to the client. */
export function penaliseMiss(state: MarketState, node: NodeRecord, job: Job, out: Effect[]): bigint {
  const amount = bpsOf(slashableOf(node), state.params.missPenaltyBps);
  drawStake(state, node, [{ to: `balance:${job.client}`, amountMicro: amount, reason: 'miss-penalty' }], job.id, out);
  return amount;
}

/**
 * Penalty for a missed audit window: `auditMissPenaltyBps` of the validator's slashable stake, paid to the
 * client (who waits longer for its check). `auditMissesToJail` misses in a row jail the validator for
 * `jailDurationMs` (it is not chosen while jailed) and reset the count.
 */
export function penaliseAuditMiss(state: MarketState, node: NodeRecord, job: Job, out: Effect[]): bigint {
  const amount = bpsOf(slashableOf(node), state.params.auditMissPenaltyBps);
  drawStake(state, node, [{ to: `balance:${job.client}`, amountMicro: amount, reason: 'audit-miss-penalty' }], job.id, out);
  node.slashedMicro += amount;
  node.auditsMissed++;
  node.auditMissStreak++;
  if (node.auditMissStreak >= state.params.auditMissesToJail) {
    node.jailedUntilMs = state.nowMs + state.params.jailDurationMs;
    node.auditMissStreak = 0;
  }
  return amount;
}

/** Can this miner bid on this job now? */
export function isEligibleMiner(state: MarketState, node: NodeRecord, job: Job, atMs: number): boolean {
  return (
    node.role === 'miner' &&
    !node.ejected &&
    node.jailedUntilMs <= atMs &&
    node.stakeMicro >= state.params.minMinerStakeMicro &&
    node.models.includes(job.model) &&
    (job.regions.length === 0 || job.regions.includes(node.region)) &&
    (!job.private || node.encryptionKey !== null) &&
    !job.excluded.includes(node.address) &&
    node.address !== job.client
  );
}
