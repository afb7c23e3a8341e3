import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from './canonical.js';
import { InfermarketError } from './errors.js';

/**
 * Committed execution traces (issue #15): a miner commits, with its result, to the hashes of the outputs at every
 * layer boundary of its run. Boundary 0 is the job's input, boundary L its output, boundaries 1..L-1 the tensors
 * between layers. The commitment is a Merkle root over `L + 1` leaves; the bisection game opens single leaves with
 * `traceProof` and the rules check them with `verifyTraceProof`.
 *
 * Leaves and inner nodes are domain-separated (0x00 / 0x01 prefix), a leaf binds its index and the root binds
 * the number of layers (0x02 prefix), so a proof for one
 * position can never be replayed for another and an inner node can never pass for a leaf. A level with an odd
 * number of nodes carries its last node up unchanged (no duplication, so no second-preimage trick with a
 * repeated last leaf).
 */

/** Most layer boundaries a trace may have (past it, a round-trip per halving no longer pays); bounds the game's rounds. */
export const MAX_TRACE_LAYERS = 64;
/** Bisection steps the longest trace can need: ceil(log2(MAX_TRACE_LAYERS)). */
export const MAX_BISECTION_STEPS = Math.ceil(Math.log2(MAX_TRACE_LAYERS));

const HASH = /^[0-9a-f]{64}$/;

function checkBoundaryHash(field: string, v: unknown): string {
  if (typeof v !== 'string' || !HASH.test(v)) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be a sha256 hash as 64 lower-case hex digits, got ${JSON.stringify(v)}`, { details: { field } });
  }
  return v;
}

/** Check a trace length: an integer number of layers in 1..MAX_TRACE_LAYERS. @throws InfermarketError `ERR_VALIDATION`. */
export function checkTraceLayers(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TRACE_LAYERS) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be an integer number of layers in 1..${MAX_TRACE_LAYERS}, got ${JSON.stringify(v)}`, { details: { field } });
  }
  return v;
}

function leaf(index: number, boundaryHash: string): Uint8Array {
  const buf = new Uint8Array(1 + 4 + 32);
  buf[0] = 0x00;
  new DataView(buf.buffer).setUint32(1, index, false);
  buf.set(fromHex(boundaryHash), 5);
  return sha256(buf);
}

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 64);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}

/** The committed root binds the number of layers too, so one tree can never be read as a trace of another length. */
function bindLength(top: Uint8Array, layers: number): Uint8Array {
  const buf = new Uint8Array(1 + 4 + 32);
  buf[0] = 0x02;
  new DataView(buf.buffer).setUint32(1, layers, false);
  buf.set(top, 5);
  return sha256(buf);
}

function levels(boundaryHashes: readonly string[]): Uint8Array[][] {
  if (!Array.isArray(boundaryHashes) || boundaryHashes.length < 2 || boundaryHashes.length > MAX_TRACE_LAYERS + 1) {
    throw new InfermarketError('ERR_VALIDATION', `a trace must have 2..${MAX_TRACE_LAYERS + 1} boundary hashes (input, each layer's output), got ${Array.isArray(boundaryHashes) ? boundaryHashes.length : typeof boundaryHashes}`);
  }
  let level = boundaryHashes.map((h, i) => leaf(i, checkBoundaryHash(`boundaryHashes[${i}]`, h)));
  const all = [level];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? node(level[i]!, level[i + 1]!) : level[i]!);
    all.push(next);
    level = next;
  }
  return all;
}

/**
 * The Merkle root over a trace's boundary hashes `[input, layer 1 output, …, layer L output]` (hex).
 * @throws InfermarketError `ERR_VALIDATION` for fewer than 2 or more than MAX_TRACE_LAYERS + 1 hashes, or a malformed hash.
 * @example traceRoot([inputHash, h1, h2, outputHash]) // a 3-layer trace
 */
export function traceRoot(boundaryHashes: readonly string[]): string {
  const all = levels(boundaryHashes);
  return toHex(bindLength(all[all.length - 1]![0]!, boundaryHashes.length - 1));
}

/** The sibling hashes (hex, leaf level first) that open boundary `index` of the trace against its root. */
export function traceProof(boundaryHashes: readonly string[], index: number): string[] {
  const all = levels(boundaryHashes);
  if (!Number.isInteger(index) || index < 0 || index >= boundaryHashes.length) {
    throw new InfermarketError('ERR_VALIDATION', `"index" must be a boundary index in 0..${boundaryHashes.length - 1}, got ${index}`, { details: { field: 'index' } });
  }
  const proof: string[] = [];
  let i = index;
  for (let l = 0; l < all.length - 1; l++) {
    const sib = i ^ 1;
    if (sib < all[l]!.length) proof.push(toHex(all[l]![sib]!));
    i >>= 1;
  }
  return proof;
}

/**
 * Does `proof` open boundary `index` of a trace of `layers` layers (so `layers + 1` leaves) with hash `boundaryHash`
 * against `root`? Malformed input is simply "no".
 */
export function verifyTraceProof(opts: { root: string; layers: number; index: number; boundaryHash: string; proof: readonly string[] }): boolean {
  const { root, layers, index, boundaryHash, proof } = opts;
  if (typeof root !== 'string' || !HASH.test(root) || typeof boundaryHash !== 'string' || !HASH.test(boundaryHash)) return false;
  if (!Number.isInteger(layers) || layers < 1 || layers > MAX_TRACE_LAYERS || !Number.isInteger(index) || index < 0 || index > layers) return false;
  if (!Array.isArray(proof) || proof.some((p) => typeof p !== 'string' || !HASH.test(p))) return false;
  let h = leaf(index, boundaryHash);
  let i = index;
  let width = layers + 1;
  let used = 0;
  while (width > 1) {
    const sib = i ^ 1;
    if (sib < width) {
      if (used >= proof.length) return false;
      const s = fromHex(proof[used++]!);
      h = i % 2 === 0 ? node(h, s) : node(s, h);
    }
    i >>= 1;
    width = Math.ceil(width / 2);
  }
  return used === proof.length && toHex(bindLength(h, layers)) === root;
}
