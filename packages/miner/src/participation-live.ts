import { createParticipation, createPriceTrend, decideParticipation, expectedUsdProfitPerJobMicro, resolveParticipation, type ParticipationSettings } from '@infermarket/agents';
import { InfermarketError, type PricingMode } from '@infermarket/protocol';

/**
 * The live miner's side of docs/economics.md, "Miners with costs in dollars": the agents' participation rule
 * (`decideParticipation`, the one the simulator's miners run) fed with what a live miner knows — the market's
 * pricing mode and IMT price (`GET /v1/oracle`, public), the prices of the jobs it ran and their measured compute
 * time (the median of its last 64 jobs; before its first job it sees no compute cost) — and acted on: a miner that leaves withdraws its standing offer and stops bidding (its stake stays
 * bonded); one that returns posts its offer again.
 */
export interface ChurnOptions {
  /** The miner's cost in micro-USD per second of its measured compute. */
  costUsdMicroPerComputeSecond: number;
  /** The rule's settings (the scenario's `economics.churn`; defaults `PARTICIPATION_DEFAULTS`). */
  settings?: Partial<ParticipationSettings>;
  /** Its ask before it has run a job (mean base price of its models, in the price unit). */
  defaultAskMicro: number;
  /** The market's `/v1/oracle` view; null when the market cannot be reached (the check is skipped). */
  readOracle: () => Promise<{ pricingMode: PricingMode; priceMicro: string | null } | null>;
  onLeave: () => void;
  onReturn: () => void;
  log: (e: Record<string, unknown>) => void;
  /** Wall clock (ms). Default `Date.now`. */
  now?: () => number;
}

/** How many recent jobs the expected ask and compute are taken from. */
const COMPUTE_SAMPLES = 64;

/** A running participation loop. */
export interface MinerChurn {
  /** False while the miner stays out. */
  active(): boolean;
  /** A job it ran: its price (price unit) and measured compute seconds, the inputs of its expected profit. */
  observeJob(priceMicro: number, computeSeconds: number): void;
  /** One check now (what the timer calls); resolves with the decision. */
  check(): Promise<'leave' | 'return' | 'stay' | 'skipped'>;
  start(): void;
  stop(): void;
  readonly settings: ParticipationSettings;
}

/**
 * Create the loop; nothing runs until `start()`.
 * @throws InfermarketError `ERR_VALIDATION` for a negative or non-finite cost, `ERR_BAD_SCENARIO` for bad settings.
 */
export function createMinerChurn(o: ChurnOptions): MinerChurn {
  if (!Number.isFinite(o.costUsdMicroPerComputeSecond) || o.costUsdMicroPerComputeSecond < 0) {
    throw new InfermarketError('ERR_VALIDATION', `"usdCostPerComputeSecond" must be a non-negative number of micro-USD, got ${String(o.costUsdMicroPerComputeSecond)}`, { details: { field: 'usdCostPerComputeSecond' } });
  }
  const settings = resolveParticipation(o.settings ?? {});
  const now = o.now ?? Date.now;
  const mem = createParticipation();
  mem.changedAtMs = now();
  const trend = createPriceTrend(settings.trendHalfLifeMs);
  // the last COMPUTE_SAMPLES jobs: their mean ask, and their median measured compute (one slow job on a busy
  // machine — a cold cache, a neighbour's burst — does not decide the miner's expected cost)
  const asks: number[] = [];
  const secs: number[] = [];
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  const churn: MinerChurn = {
    settings,
    active: () => mem.active,
    observeJob(priceMicro, computeSeconds) {
      asks.push(priceMicro);
      secs.push(computeSeconds);
      if (asks.length > COMPUTE_SAMPLES) {
        asks.shift();
        secs.shift();
      }
    },
    async check() {
      const view = await o.readOracle().catch(() => null);
      if (!view) return 'skipped';
      const at = now();
      // stable: the price plays no part (any positive number gives the same profit)
      const price = view.priceMicro !== null ? Number(view.priceMicro) : 1_000_000;
      if (view.pricingMode !== 'stable' && view.priceMicro === null) return 'skipped';
      trend.observe(at, price);
      const askMicro = asks.length ? asks.reduce((a, b) => a + b, 0) / asks.length : o.defaultAskMicro;
      const sorted = [...secs].sort((a, b) => a - b);
      const computeSecondsPerJob = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
      const profitMicro = expectedUsdProfitPerJobMicro({
        pricingMode: view.pricingMode,
        askMicro,
        computeSecondsPerJob,
        costUsdMicroPerComputeSecond: o.costUsdMicroPerComputeSecond,
        priceNowMicro: price,
        priceForecastMicro: trend.forecast(settings.holdMs),
      });
      const d = decideParticipation(mem, { atMs: at, profitMicro }, settings);
      if (d !== 'stay') {
        o.log({ event: 'participation', action: d, priceMicro: price, profitMicro: Math.round(profitMicro), askMicro: Math.round(askMicro), computeSecondsPerJob, leaves: mem.leaves, returns: mem.returns });
        if (d === 'leave') o.onLeave();
        else o.onReturn();
      }
      return d;
    },
    start() {
      if (running) return;
      running = true;
      const loop = (): void => {
        timer = setTimeout(() => {
          void churn.check().finally(() => {
            if (running) loop();
          });
        }, settings.checkEveryMs);
        timer.unref();
      };
      loop();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
  return churn;
}
