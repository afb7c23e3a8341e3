import { keyPairFromSeed, seedFromLabel, type Scenario } from '@infermarket/protocol';
import { SIM_DEFAULTS } from '@infermarket/sim';

/** One node of a testnet as planned from the scenario. */
export interface PlannedNode {
  /** Instance name, `${group name or strategy}-${i}`: what faults and reports call it. */
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
  args: (marketUrl: string) => string[];
}

/** Everything the orchestrator will start. */
export interface TestnetPlan {
  nodes: PlannedNode[];
  loads: PlannedLoad[];
  /** Address → instance name, for reports. */
  names: Map<string, string>;
}

const DEFAULT_STAKE = '500000000';
/** charlm tokens per job when the scenario does not say (the simulator's default). */
const DEFAULT_MAX_TOKENS = 32;

/** The key label of an instance: the scenario seed and its name (reproducible addresses). */
export function keyLabel(seed: number, id: string): string {
  return `testnet/${seed}/${id}`;
}

/** Models the scenario's clients ask for, in order of first mention. */
export function clientModels(s: Scenario): string[] {
  const out: string[] = [];
  for (const c of s.clients) for (const [m, w] of Object.entries(c.models)) if (w > 0 && !out.includes(m)) out.push(m);
  return out.length ? out : ['digits'];
}

/**
 * Turn a scenario into processes: one per miner and validator instance with its CLI arguments, and one
 * load generator per client group. `durationMs` is the load's run time.
 */
export function planTestnet(s: Scenario, opts: { durationMs: number; wsUrlPlaceholder?: string }): TestnetPlan {
  const nodes: PlannedNode[] = [];
  const names = new Map<string, string>();
  const models = clientModels(s);
  const addrOf = (label: string): string => keyPairFromSeed(seedFromLabel(label)).address;
  s.miners.forEach((g, gi) => {
    for (let i = 0; i < g.count; i++) {
      const id = `${g.name ?? g.strategy}-${i}`;
      const keySeed = keyLabel(s.seed, id);
      const address = addrOf(keySeed);
      const stake = g.stakeMicro ?? DEFAULT_STAKE;
      // defaults are the simulator's, so one scenario file means the same in both
      const pricing = g.pricing ?? { priceMicro: String(SIM_DEFAULTS.minerPriceMicro) };
      const args = [
        '--model', (g.models ?? models).join(','),
        '--strategy', g.strategy,
        '--variant', g.variant ?? 'int8',
        '--region', g.region ?? 'local',
        '--stake', stake,
        '--concurrency', String(g.concurrency ?? SIM_DEFAULTS.minerConcurrency),
        '--latency-ms', String(g.latencyMs ?? 0),
        '--jitter-ms', String(g.jitterMs ?? 0),
        '--ep', (g.ep ?? ['cpu']).join(','),
        '--threads', String(g.threads ?? 1),
        '--key-seed', keySeed,
        '--seed', `${s.seed}/${gi}/${i}`,
        '--cost-per-cpu-second', s.sim?.costPerCpuSecondMicro ?? '1000',
        '--json',
      ];
      if (typeof pricing.priceMicro === 'string') args.push('--price', pricing.priceMicro);
      else args.push('--pricing', JSON.stringify(pricing.priceMicro));
      if (pricing.spreadBps !== undefined) args.push('--spread-bps', String(pricing.spreadBps));
      if (g.cheatProbability !== undefined) args.push('--cheat-probability', String(g.cheatProbability));
      if (g.slowExtraMs !== undefined) args.push('--slow-extra-ms', String(g.slowExtraMs));
      // the learner settings the simulator's adaptive miners use (one learner, one set of defaults)
      if (g.strategy === 'adaptive' && s.sim?.adaptive) args.push('--adaptive', JSON.stringify(s.sim.adaptive));
      // flaky miners also lose their connection now and then (about one offer in 25), for 2 s
      if (g.strategy === 'flaky') args.push('--disconnect-probability', '0.04');
      nodes.push({ id, role: 'miner', strategy: g.strategy, address, models: g.models ?? models, keySeed, stakeMicro: stake, region: g.region ?? 'local', args, ...(g.cpu ? { cpu: g.cpu } : {}) });
      names.set(address, id);
    }
  });
  s.validators.forEach((g) => {
    for (let i = 0; i < g.count; i++) {
      const id = `${g.name ?? g.strategy}-${i}`;
      const keySeed = keyLabel(s.seed, id);
      const address = addrOf(keySeed);
      const stake = g.stakeMicro ?? DEFAULT_STAKE;
      const collude = (g.colludeWith ?? []).map((name) => addrOf(keyLabel(s.seed, name)));
      const args = [
        '--model', (g.models ?? models).join(','),
        '--strategy', g.strategy,
        '--region', g.region ?? 'local',
        '--stake', stake,
        '--threads', String(g.threads ?? 1),
        '--key-seed', keySeed,
        '--json',
      ];
      if (collude.length) args.push('--collude-with', collude.join(','));
      nodes.push({ id, role: 'validator', strategy: g.strategy, address, models: g.models ?? models, keySeed, stakeMicro: stake, region: g.region ?? 'local', args });
      names.set(address, id);
    }
  });
  const loads: PlannedLoad[] = s.clients.map((c, gi) => {
    const id = c.name ?? 'client';
    const prefix = keyLabel(s.seed, id);
    const addresses = Array.from({ length: c.count }, (_, i) => addrOf(`${prefix}-${i}`));
    addresses.forEach((a, i) => names.set(a, `${id}-${i}`));
    const maxPrice = c.maxPriceMicro ?? String(SIM_DEFAULTS.clientMaxPriceMicro);
    // enough for every arrival at the max price, with margin; the faucet cap bounds it
    const expected = Math.ceil(c.ratePerSec * (opts.durationMs / 1000) * 2 + 20);
    const fund = (BigInt(maxPrice) * BigInt(expected)).toString();
    return {
      id,
      addresses,
      fundMicro: fund,
      args: (marketUrl: string) => {
        const a = [
          'load',
          '--market', marketUrl,
          '--clients', String(c.count),
          '--rate', String(c.ratePerSec),
          '--models', JSON.stringify(c.models),
          '--max-price', maxPrice,
          '--concurrency', String(c.concurrency ?? SIM_DEFAULTS.clientConcurrency),
          '--duration-ms', String(opts.durationMs),
          '--seed', `${s.seed}${gi ? `/${gi}` : ''}`,
          '--key-prefix', prefix,
          '--faucet', fund,
          '--max-tokens', String(c.maxTokens ?? DEFAULT_MAX_TOKENS),
          '--json',
        ];
        if (c.regions?.length) a.push('--regions', c.regions.join(','));
        if (c.private) a.push('--private');
        if (c.temperature !== undefined) a.push('--temperature', String(c.temperature));
        return a;
      },
    };
  });
  return { nodes, loads, names };
}
