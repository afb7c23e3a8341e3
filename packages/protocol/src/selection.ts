import { sha256 } from '@noble/hashes/sha2.js';
import type { Epoch, MarketState, NodeRecord } from './types.js';
import { nativeSha256Hex } from './hash-native.js';

const utf8 = new TextEncoder();
const nativeHex = nativeSha256Hex();

/**
 * A uniform number in [0, 1) from H(seed ‖ purpose ‖ parts): unpredictable before the seed is revealed,
 * checkable by anyone after. 48 bits of the hash are used.
 */
export function uniformFromSeed(seedHex: string, purpose: string, ...parts: (string | number)[]): number {
  const text = `${seedHex}|${purpose}|${parts.join('|')}`;
  // the same sha256, native where the runtime has it (the audit draw runs once per job): the first 12 hex
  // digits are the same 6 bytes as below
  if (nativeHex) return Number.parseInt(nativeHex(text).slice(0, 12), 16) / 2 ** 48;
  const h = sha256(utf8.encode(text));
  // 6 bytes → an integer below 2^48, exactly representable in a double
  const n = h[0]! * 2 ** 40 + h[1]! * 2 ** 32 + h[2]! * 2 ** 24 + h[3]! * 2 ** 16 + h[4]! * 2 ** 8 + h[5]!;
  return n / 2 ** 48;
}

/** Whether a job is audited: H(epoch seed ‖ "audit" ‖ jobId) falls under the audit rate. Anyone can re-check it once the seed is revealed. */
export function isAudited(seedHex: string, jobId: string, auditRate: number): boolean {
  return uniformFromSeed(seedHex, 'audit', jobId) < auditRate;
}

/** Can this node audit or referee a job on `model` right now? */
export function isEligibleValidator(state: MarketState, node: NodeRecord, model: string, atMs: number): boolean {
  return (
    node.role === 'validator' &&
    !node.ejected &&
    node.jailedUntilMs <= atMs &&
    node.stakeMicro >= state.params.minValidatorStakeMicro &&
    node.models.includes(model)
  );
}

/** Was this node seen (an accepted signed event of its own, or a driver heartbeat) within `livenessWindowMs` of `atMs`? */
export function isLive(state: MarketState, node: NodeRecord, atMs: number): boolean {
  return atMs - node.lastSeenMs <= state.params.livenessWindowMs;
}

/**
 * Live, eligible validators in a stake-weighted seeded order anyone can recompute: each gets the key
 * -ln(1 - u) / stake with u = H(seed ‖ purpose ‖ jobId ‖ address), smallest first (an exponential race,
 * i.e. weighted sampling without replacement), so a validator's chance to be first is its share of the
 * stake. Sybils with the minimum stake each get no more weight in total than the stake they put up, and a
 * validator not seen within `livenessWindowMs` is never chosen. `exclude` removes the miner, the accuser, etc.
 */
export function rankValidators(
  state: MarketState,
  epoch: Epoch,
  purpose: string,
  jobId: string,
  model: string,
  atMs: number,
  exclude: readonly string[],
  needsEncryptionKey: boolean,
): string[] {
  const ranked: { address: string; score: number }[] = [];
  for (const node of state.nodes.values()) {
    if (exclude.includes(node.address)) continue;
    if (!isEligibleValidator(state, node, model, atMs)) continue;
    if (needsEncryptionKey && !node.encryptionKey) continue;
    if (!isLive(state, node, atMs)) continue;
    const u = uniformFromSeed(epoch.seed, purpose, jobId, node.address);
    // eligibility guarantees stake ≥ minValidatorStakeMicro; a zero minimum still gets a positive weight
    const weight = Number(node.stakeMicro) || 1;
    ranked.push({ address: node.address, score: -Math.log1p(-u) / weight });
  }
  ranked.sort((a, b) => a.score - b.score || (a.address < b.address ? -1 : 1));
  return ranked.map((r) => r.address);
}
