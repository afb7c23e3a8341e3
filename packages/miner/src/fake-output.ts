import type { JobInput, JobOutput } from '@infermarket/protocol';
import type { Rng } from '@infermarket/agents';
import { toWireTensor } from '@infermarket/node-runtime';

const CHARLM_FIRST = 1;
const CHARLM_LAST = 95;

/**
 * Random output of the right shape, at no compute: what a miner sends when the agents' `planJob`
 * says `fake` (a lazy job, or an adaptive miner's cheat). Tensors get uniform values in [-1, 1);
 * generation gets `maxTokens` random printable characters.
 */
export function fakeOutput(input: JobInput, dims: number[], rng: Rng): JobOutput {
  if (input.kind === 'prompt') {
    const tokens: number[] = [];
    for (let i = 0; i < input.maxTokens; i++) tokens.push(CHARLM_FIRST + Math.floor(rng.next() * (CHARLM_LAST - CHARLM_FIRST + 1)));
    return { kind: 'tokens', tokens, text: tokens.map((t) => String.fromCharCode(t + 31)).join('') };
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
  return { kind: 'tensor', tensor: toWireTensor({ dtype: 'float32', dims, data }) };
}
