#!/usr/bin/env node
// Cost of the replay check per signed event (checkNonce + rememberNonce, with the epoch pruning), as the
// simulator pays it: 13 signers, ~8 signed events per simulated ms, 10 s expiry, 1M events. Run after `npx tsc -b`:
//   node scripts/replay-microbench.mjs
import { createState } from '../packages/protocol/dist/state.js';
import { checkNonce, rememberNonce, pruneNonces } from '../packages/protocol/dist/replay.js';

const signers = Array.from({ length: 13 }, (_, i) => 'im' + String(i).padStart(40, '0'));
const seqs = signers.map(() => 0);
const N = 1_000_000;
let st;
const run = () => {
  st = createState({ models: [] });
  let t = 0;
  const h = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const k = i % signers.length;
    t = Math.floor(i / 8); // ~8 signed events per ms of virtual time
    const a = { by: signers[k], nonce: String(++seqs[k]), expiresAtMs: t + 10_000 };
    const r = checkNonce(st, a, t);
    if (typeof r === 'number') rememberNonce(st, a, r); else rememberNonce(st, r, a.expiresAtMs);
    if (i % 80_000 === 0) pruneNonces(st, t);
  }
  return Number(process.hrtime.bigint() - h) / N;
};
run();
const ns = run();
console.log(JSON.stringify({ nsPerSignedEvent: Math.round(ns), entries: (st.nonces ?? st.replay).size }));
