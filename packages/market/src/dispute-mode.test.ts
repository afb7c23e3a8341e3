import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfermarketError } from '@infermarket/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createMarket } from './market.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('disputeMode on the live market', () => {
  it('error: refuses "bisection" (not played live yet) naming the field, instead of settling its disputes by quorum', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-dispute-mode-'));
    const err = await createMarket({ dbPath: join(dir, 'm.db'), params: { disputeMode: 'bisection' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfermarketError);
    expect((err as InfermarketError).code).toBe('ERR_INVALID_PARAM');
    expect((err as InfermarketError).message).toMatch(/"disputeMode" "bisection" is not played by the live market yet/);
  });
});
