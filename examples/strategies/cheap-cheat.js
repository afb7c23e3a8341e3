// A user miner strategy for infermarket: cheat only where it is cheap to be caught.
//
// It bids like an honest miner (its base price, ± the configured spread), runs every job it won at a
// good price honestly, and on jobs it won at a LOW price returns fake output (no compute) with
// probability CHEAT_PROBABILITY — the reasoning being that a cheap job earns little compute back, so
// skipping it looks tempting. The learning hook makes it "once bitten, twice shy": after its first
// slash it never cheats again.
//
// Run it live:      infermarket miner --market ws://HOST:PORT --strategy ./examples/strategies/cheap-cheat.js
// In a scenario:    { "name": "sly", "count": 1, "strategy": "./strategies/cheap-cheat.js", ... }
//                   (the path is relative to the scenario file)
// Walkthrough:      docs/strategies.md
//
// Rules of the interface (checked when it loads and on every decision):
// - the default export is { role: 'miner', name, create(init) }; `name` is what reports show;
// - create(init) returns one strategy per miner: { bidPrice(ctx, rng), planJob(ctx, rng), learn?(jobId, outcome) };
// - every random choice uses the `rng` passed in (never Math.random), so a seed replays it exactly.

/** Jobs won below this price (micro-mUSD) are the ones it considers cheating on. */
const LOW_PRICE_MICRO = 8_000n;
/** Chance to cheat on a low-priced job (until the first slash). */
const CHEAT_PROBABILITY = 0.75;

export default {
  role: 'miner',
  name: 'cheap-cheat',
  description: 'Cheats (fake output) on low-priced jobs only, until it is first slashed.',

  create(init) {
    let bitten = false;
    let cheats = 0;
    return {
      // ctx: { model, baseMicro, spreadBps, maxPriceMicro, worstCase(priceMicro) } — amounts are bigint
      bidPrice(ctx, rng) {
        let price = ctx.baseMicro;
        if (ctx.spreadBps > 0) price += (price * BigInt(Math.round(rng.uniform(-ctx.spreadBps, ctx.spreadBps)))) / 10_000n;
        if (price < 1n) price = 1n;
        // the market refuses a bid whose worst-case cost to the client exceeds the client's max price
        return ctx.worstCase(price) > ctx.maxPriceMicro ? null : price;
      },

      // ctx: { jobId, model, priceMicro, deadlineMs, hasReplay }
      planJob(ctx, rng) {
        const honest = { kind: 'run', variant: init.variant, extraDelayMs: 0 };
        if (bitten || ctx.priceMicro >= LOW_PRICE_MICRO) return honest;
        if (rng.next() >= CHEAT_PROBABILITY) return honest;
        cheats++;
        return { kind: 'fake', extraDelayMs: 0 };
      },

      // outcome: { kind: 'settled' | 'missed' | 'slashed', paidMicro, slashedMicro, penaltyMicro, jailed, costMicro }
      learn(jobId, outcome) {
        if (outcome.kind === 'slashed') bitten = true;
        // what it returns is logged beside the outcome (the miner's `learned` log line)
        return { bitten, cheats };
      },
    };
  },
};
