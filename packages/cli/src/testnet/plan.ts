import { checkHybrid, churnEnabled, churnSettingsOf, minerUsdCostMicro, pricePath } from '@infermarket/agents';
import { HYBRID_DEFAULTS } from '@infermarket/client';
import { clientMaxPriceMicro, InfermarketError, jobToken, keyLabel, keyPairFromSeed, resolveParams, resolveScenario, seedFromLabel, type ResolvedScenario, type Scenario } from '@infermarket/protocol';
import { oracleSpec } from '@infermarket/sim';

export { keyLabel };

/** One node of a testnet as planned from the scenario. */
export interface PlannedNode {
  /** Instance name, `${group}-${i}`, unique across roles (`resolveScenario`): what faults and reports call it. */
  id: string;
  role: 'miner' | 'validator';
  strategy: string;
  address: string;
  /** Models it serves (miners) or re-executes (validators). */
  models: string[];
  keySeed: string;
  stakeMicro: string;
  region: string;
  args: string[];
  /** Emulated CPU model the process runs under (miners with `"cpu"`). */
  cpu?: string;
}

/** One load-generator process (one client group). */
export interface PlannedLoad {
  id: string;
  /** Client addresses of this group, in order. */
  addresses: string[];
  fundMicro: string;
  /** The token `fundMicro` is in: IMT when the market pays in IMT (`pricingMode` token, token-native). */
  fundToken: 'mUSD' | 'IMT';
  /** The group's hybrid routing (docs/economics.md), when it has one: its jobs go through `createHybridClient` to the market or the baseline. */
  hybrid: { policy: 'split' | 'fallback'; fallbackAfterMs: number; latencySensitiveModels: string[] } | null;
  /** `cloudUrl`: the baseline's, for a hybrid group (the testnet starts `infermarket cloud` when a group is hybrid). */
  args: (marketUrl: string, cloudUrl?: string) => string[];
}

/** Everything the orchestrator will start. */
export interface TestnetPlan {
  nodes: PlannedNode[];
  loads: PlannedLoad[];
  /** Address → instance name, for reports. */
  names: Map<string, string>;
  /** The scenario resolved against the protocol defaults (written into the report as `resolved`). */
  resolved: ResolvedScenario;
  /**
   * The IMT price path the market's oracle publishes (`infermarket market --oracle-prices`), from the scenario's
   * `economics.oracle` and seed by the simulator's own `oracleSpec` and the agents' `pricePath` (the same path a
   * simulation of the scenario publishes); null when the scenario has no economics and prices in mUSD.
   */
  oracle: { source: string; seed: number; points: [number, string][] } | null;
  /** The centralized baseline the testnet starts when a client group is hybrid: its price per job (micro-mUSD; the groups' `cloudPriceMicro`, default `infermarket cloud`'s 10,000). */
  cloud: { priceMicro: string } | null;
}


/** How long past the load the oracle's path reaches: startup and the drain happen on the market clock too. */
const ORACLE_TAIL_MS = 300_000;

/**
 * Turn a scenario into processes: resolve it (`resolveScenario`: the one set of defaults the simulator
 * uses too), then one process per miner and validator instance with its CLI arguments, and one load
 * generator per client group. `durationMs` is the load's run time.
 * @throws InfermarketError `ERR_BAD_SCENARIO` when two instances would share a name, key or address.
 */
export function planTestnet(s: Scenario, opts: { durationMs: number }): TestnetPlan {
  const resolved = resolveScenario(s);
  const nodes: PlannedNode[] = [];
  const names = new Map<string, string>();
  const addrOf = (label: string): string => keyPairFromSeed(seedFromLabel(label)).address;
  const claim = (address: string, name: string): void => {
    const prev = names.get(address);
    if (prev !== undefined) throw new InfermarketError('ERR_BAD_SCENARIO', `instances "${prev}" and "${name}" would share the address ${address}; give their groups distinct names`, { details: { field: 'name' } });
    names.set(address, name);
  };
  const byName = new Map(resolved.miners.map((m) => [m.name, m]));
  const econ = s.economics;
  const churn = churnEnabled(econ) ? churnSettingsOf(econ) : null;
  const P = resolveParams(s.params ?? {});
  const token = jobToken(P);
  for (const m of resolved.miners) {
    const address = addrOf(m.keyLabel);
    const args = [
      '--model', m.models.join(','),
      '--strategy', m.strategy,
      '--variant', m.variant,
      '--region', m.region,
      '--stake', m.stakeMicro,
      '--fund', m.fundMicro,
      '--concurrency', String(m.concurrency),
      '--latency-ms', String(m.latencyMs),
      '--jitter-ms', String(m.jitterMs),
      '--ep', m.ep.join(','),
      '--threads', String(m.threads),
      '--key-seed', m.keyLabel,
      '--seed', m.seedLabel,
      '--cost-per-cpu-second', m.costPerCpuSecondMicro,
      '--pricing', JSON.stringify(m.priceMicro),
      '--spread-bps', String(m.spreadBps),
      '--json',
    ];
    if (m.strategy !== 'adaptive') args.push('--cheat-probability', String(m.cheatProbability));
    if (m.strategy === 'slow') args.push('--slow-extra-ms', String(m.slowExtraMs));
    // flaky miners also lose their connection now and then (about one offer in 25), for 2 s
    if (m.strategy === 'flaky') args.push('--disconnect-probability', '0.04');
    // the learner settings the simulator's adaptive miners use (one learner, one set of defaults)
    if (m.strategy === 'adaptive' && s.sim?.adaptive) args.push('--adaptive', JSON.stringify(s.sim.adaptive));
    // costs in dollars and price-driven churn: the rule and the costs the simulator's miners get (docs/economics.md)
    if (churn && minerUsdCostMicro(econ, m.group) > 0) args.push('--usd-cost-per-compute-second', String(minerUsdCostMicro(econ, m.group)), '--churn', JSON.stringify(churn));
    const cpu = s.miners[m.groupIndex]!.cpu;
    nodes.push({ id: m.name, role: 'miner', strategy: m.strategy, address, models: m.models, keySeed: m.keyLabel, stakeMicro: m.stakeMicro, region: m.region, args, ...(cpu ? { cpu } : {}) });
    claim(address, m.name);
  }
  for (const v of resolved.validators) {
    const address = addrOf(v.keyLabel);
    const collude = v.colludeWith.map((name) => addrOf(byName.get(name)!.keyLabel));
    const args = [
      '--model', v.models.join(','),
      '--strategy', v.strategy,
      '--region', v.region,
      '--stake', v.stakeMicro,
      '--fund', v.fundMicro,
      '--threads', String(v.threads),
      '--key-seed', v.keyLabel,
      '--json',
    ];
    if (collude.length) args.push('--collude-with', collude.join(','));
    nodes.push({ id: v.name, role: 'validator', strategy: v.strategy, address, models: v.models, keySeed: v.keyLabel, stakeMicro: v.stakeMicro, region: v.region, args });
    claim(address, v.name);
  }
  const cloudPrices = new Set<string>();
  const loads: PlannedLoad[] = resolved.clients.map((c) => {
    const id = c.group;
    const h = s.clients[c.groupIndex]?.hybrid;
    const hybrid = h ? { ...checkHybrid(h.policy, h.fallbackAfterMs ?? HYBRID_DEFAULTS.fallbackAfterMs), latencySensitiveModels: h.latencySensitiveModels ?? ['charlm'] } : null;
    if (h) cloudPrices.add(h.cloudPriceMicro ?? '10000');
    const prefix = keyLabel(s.seed, id);
    const addresses = c.keyLabels.map(addrOf);
    addresses.forEach((a, i) => claim(a, c.instances[i]!));
    // one client max price for every model today: the largest of the resolved table
    const maxPrice = clientMaxPriceMicro(c).toString();
    // enough for every arrival at the max price, with margin; the faucet cap bounds it
    const expected = Math.ceil(c.ratePerSec * (opts.durationMs / 1000) * 2 + 20);
    // an IMT-paying market: the client's treasury is IMT bought at the start price, as in the simulator
    const fund = token === 'IMT' ? (econ?.clientImtMicro ?? P.faucetCapMicro.toString()) : (BigInt(maxPrice) * BigInt(expected)).toString();
    return {
      id,
      addresses,
      fundMicro: fund,
      fundToken: token,
      hybrid,
      args: (marketUrl: string, cloudUrl?: string) => {
        const a = [
          'load',
          '--market', marketUrl,
          '--clients', String(c.instances.length),
          '--rate', String(c.ratePerSec),
          '--models', JSON.stringify(c.models),
          '--max-price', maxPrice,
          '--concurrency', String(c.concurrency),
          '--duration-ms', String(opts.durationMs),
          '--seed', c.seedLabel,
          '--key-prefix', prefix,
          '--faucet', fund,
          ...(token === 'IMT' ? ['--faucet-token', 'IMT'] : []),
          '--max-tokens', String(c.maxTokens),
          '--json',
        ];
        if (c.regions.length) a.push('--regions', c.regions.join(','));
        if (c.private) a.push('--private');
        if (c.temperature > 0) a.push('--temperature', String(c.temperature));
        if (c.verification !== 'sampled') a.push('--verification', c.verification);
        if (c.batchRows > 1) a.push('--batch-rows', String(c.batchRows));
        if (hybrid) {
          if (cloudUrl === undefined) throw new InfermarketError('ERR_INTERNAL', `client group "${id}" is hybrid and needs the baseline's URL`);
          a.push('--hybrid', JSON.stringify(hybrid), '--cloud', cloudUrl);
        }
        return a;
      },
    };
  });
  let oracle: TestnetPlan['oracle'] = null;
  if (econ !== undefined || P.pricingMode !== 'stable') {
    const spec = oracleSpec(s);
    const points = pricePath(spec, { seed: s.seed, durationMs: opts.durationMs + ORACLE_TAIL_MS }).map((p): [number, string] => [p.atMs, p.priceMicro.toString()]);
    oracle = { source: `${spec.kind}${spec.kind === 'gbm' ? ` σ=${spec.volatilityPerSqrtHour}/√h drift=${spec.driftPerHour}/h step=${spec.stepMs}ms` : ''} seed=${s.seed}`, seed: s.seed, points };
  }
  if (cloudPrices.size > 1) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `hybrid client groups name different "cloudPriceMicro" (${[...cloudPrices].join(', ')}): the testnet starts one baseline at one price; give them the same`, { details: { field: 'clients.hybrid.cloudPriceMicro' } });
  }
  const cloud = cloudPrices.size ? { priceMicro: [...cloudPrices][0]! } : null;
  return { nodes, loads, names, resolved, oracle, cloud };
}
