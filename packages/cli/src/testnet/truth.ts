import { DEFAULT_MODELS_DIR } from '@infermarket/inference';
import { loadModelSpecs, openStore, outputsAgree, storedOutput } from '@infermarket/market';
import { createInferenceExecutor } from '@infermarket/miner';
import type { JobInput, TruthCounts, TruthReport } from '@infermarket/protocol';

/** Options for `measureTruth`. */
export interface MeasureTruthOptions {
  /** The testnet's market database (read after the market stopped). */
  dbPath: string;
  /** Miner address → its strategy (from the plan). */
  strategyOf: ReadonlyMap<string, string>;
  /** Models manifest directory (default: the repo's models/). */
  modelsDir?: string;
  /** Re-execute at most this many settled jobs (default: all). */
  limit?: number;
}

const per = (c: { settled: number; wrong: number }): TruthCounts => ({ settled: c.settled, wrong: c.wrong, wrongPerThousand: c.settled ? Math.round((c.wrong / c.settled) * 1_000_000) / 1000 : null });

/**
 * The truth about a testnet run: every settled job the market can read (not private) is re-executed after
 * the run through the real runtime (`reference` execution of the variant its miner registered, as validators
 * do) and compared with the delivered output by the model's comparator. Counts wrong outputs delivered per
 * 1,000 settled jobs overall, by miner strategy and by the verification level on the job's receipt.
 */
export async function measureTruth(options: MeasureTruthOptions): Promise<TruthReport> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const store = openStore(options.dbPath);
  const { specs } = loadModelSpecs(modelsDir);
  const executor = createInferenceExecutor({ modelsDir });
  const all = { settled: 0, wrong: 0 };
  const byStrategy = new Map<string, { settled: number; wrong: number }>();
  const byLevel = new Map<string, { settled: number; wrong: number }>();
  let unchecked = 0;
  let done = 0;
  try {
    for (const row of store.jobRows().values()) {
      if (row.status !== 'settled' || !row.miner) continue;
      if (options.limit !== undefined && done >= options.limit) {
        unchecked++;
        continue;
      }
      const input = store.payload(row.id, 'input') as JobInput | undefined;
      const output = storedOutput(store, row.id, row.miner);
      if (!input || !output || input.kind === 'sealed' || output.kind === 'sealed' || !specs.has(row.model)) {
        unchecked++;
        continue;
      }
      const variant = store.getMeta(`variant:${row.miner}`) ?? 'fp32';
      let level = 'sampled';
      try {
        const body = (JSON.parse(row.receipt ?? '{}') as { body?: { verification?: string } }).body;
        if (typeof body?.verification === 'string') level = body.verification;
      } catch {
        // an unreadable receipt keeps the default level
      }
      const ref = await executor.execute({ model: row.model, variant, input, reference: true });
      const wrong = !outputsAgree(specs.get(row.model), output, ref.output, variant) ? 1 : 0;
      done++;
      for (const [map, key] of [[byStrategy, options.strategyOf.get(row.miner) ?? 'unknown'], [byLevel, level]] as const) {
        const c = map.get(key) ?? { settled: 0, wrong: 0 };
        c.settled++;
        c.wrong += wrong;
        map.set(key, c);
      }
      all.settled++;
      all.wrong += wrong;
    }
  } finally {
    store.close();
  }
  const sorted = (m: Map<string, { settled: number; wrong: number }>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, per(v)]));
  return { source: 're-execution', ...per(all), unchecked, byStrategy: sorted(byStrategy), byLevel: sorted(byLevel) };
}
