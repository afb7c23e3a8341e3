import { clientMaxPriceMicro, InfermarketError, keyLabel, keyPairFromSeed, resolveScenario, seedFromLabel, type ResolvedScenario, type Scenario } from '@infermarket/protocol';

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
  args: (marketUrl: string) => string[];
}

/** Everything the orchestrator will start. */
export interface TestnetPlan {
  nodes: PlannedNode[];
  loads: PlannedLoad[];
  /** Address → instance name, for reports. */
  names: Map<string, string>;
  /** The scenario resolved against the protocol defaults (written into the report as `resolved`). */
  resolved: ResolvedScenario;
}


/**
 * The live testnet does not run the reward-token oracle, USD-cost churn or hybrid routing (simulator-only,
 * docs/economics.md): a scenario asking for them is refused rather than run without them.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the field.
 */
function refuseSimulatorOnly(s: Scenario): void {
  const fix = 'run it with `infermarket sim` (docs/economics.md), or remove the field for the testnet';
  if (s.economics !== undefined) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `"economics" is simulator-only: the live testnet has no IMT oracle or USD-cost churn; ${fix}`, { details: { field: 'economics' } });
  }
  (s.clients ?? []).forEach((c, i) => {
    if (c.hybrid !== undefined) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `"clients[${i}].hybrid" is simulator-only: testnet load generators do not route to a baseline; ${fix}`, { details: { field: `clients[${i}].hybrid` } });
    }
  });
}

/**
 * Turn a scenario into processes: resolve it (`resolveScenario`: the one set of defaults the simulator
 * uses too), then one process per miner and validator instance with its CLI arguments, and one load
 * generator per client group. `durationMs` is the load's run time.
 * @throws InfermarketError `ERR_BAD_SCENARIO` when two instances would share a name, key or address.
 */
export function planTestnet(s: Scenario, opts: { durationMs: number }): TestnetPlan {
  refuseSimulatorOnly(s);
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
  const loads: PlannedLoad[] = resolved.clients.map((c) => {
    const id = c.group;
    const prefix = keyLabel(s.seed, id);
    const addresses = c.keyLabels.map(addrOf);
    addresses.forEach((a, i) => claim(a, c.instances[i]!));
    // one client max price for every model today: the largest of the resolved table
    const maxPrice = clientMaxPriceMicro(c).toString();
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
          '--clients', String(c.instances.length),
          '--rate', String(c.ratePerSec),
          '--models', JSON.stringify(c.models),
          '--max-price', maxPrice,
          '--concurrency', String(c.concurrency),
          '--duration-ms', String(opts.durationMs),
          '--seed', c.seedLabel,
          '--key-prefix', prefix,
          '--faucet', fund,
          '--max-tokens', String(c.maxTokens),
          '--json',
        ];
        if (c.regions.length) a.push('--regions', c.regions.join(','));
        if (c.private) a.push('--private');
        if (c.temperature > 0) a.push('--temperature', String(c.temperature));
        if (c.verification !== 'sampled') a.push('--verification', c.verification);
        if (c.batchRows > 1) a.push('--batch-rows', String(c.batchRows));
        return a;
      },
    };
  });
  return { nodes, loads, names, resolved };
}
