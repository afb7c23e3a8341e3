import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMarket } from './market.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('disputeMode on the live market', () => {
  it('"bisection" is played live: the rules learn each model\'s trace length from the manifest (charlm commits none)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-dispute-mode-'));
    const m = await createMarket({ dbPath: join(dir, 'm.db'), params: { disputeMode: 'bisection' } });
    try {
      expect(m.core.params.disputeMode).toBe('bisection');
      // layers = the manifest's layerBoundaries + 1, single-input models only
      expect(Object.fromEntries(m.core.state.traceLayers)).toEqual({ digits: 2, heavy: 3, deep: 9 });
    } finally {
      await m.close();
    }
  });
});
