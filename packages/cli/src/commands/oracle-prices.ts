import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parsePriceSeries } from '@infermarket/agents';
import { InfermarketError } from '@infermarket/protocol';
import type { OraclePath } from '@infermarket/market';

/**
 * Read the market's IMT price path (`infermarket market --oracle-prices FILE`): JSON `[[atMs, priceMicro], …]`
 * or `{ "source": "…", "points": [...] }` (what the testnet writes from the scenario's seeded process), or CSV
 * lines `atMs,priceMicro` (the simulator's price-file parser). The market checks every point (`checkOraclePath`).
 * @throws InfermarketError `ERR_VALIDATION` naming `--oracle-prices` when the file cannot be read or parsed.
 */
export function readOraclePrices(file: string): OraclePath {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"--oracle-prices" ${file} must be a readable file: ${(e as Error).message}`, { details: { field: '--oracle-prices' } });
  }
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new InfermarketError('ERR_VALIDATION', `"--oracle-prices" ${file} is not valid JSON: ${(e as Error).message}`, { details: { field: '--oracle-prices' } });
    }
    if (Array.isArray(v)) return { points: v as OraclePath['points'], source: basename(file) };
    const o = v as { source?: unknown; points?: unknown };
    return { points: (o.points ?? []) as OraclePath['points'], source: typeof o.source === 'string' ? o.source : basename(file) };
  }
  const spec = parsePriceSeries(t);
  return { points: spec.kind === 'series' ? spec.points : [], source: basename(file) };
}
