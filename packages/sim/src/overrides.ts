import { InfermarketError, PARAM_NAMES, parseScenario, type Scenario } from '@infermarket/protocol';

/**
 * Names a sweep or `--set` may vary, and how each is applied to a scenario:
 * - a protocol parameter by its name (`auditRate`) or as `params.auditRate`;
 * - a top-level scenario knob: `durationMs`, `seed` is not allowed (seeds come from the sweep);
 * - a simulator knob: `sim.<field>` (e.g. `sim.costPerCpuSecondMicro`, `sim.honestDivergenceRate`,
 *   `sim.adaptive.epsilon`);
 * - a group field by index: `miners[2].count`, `miners[0].cheatProbability`, `clients[0].ratePerSec`,
 *   `validators[1].strategy`; or by group name: `miners.adaptive.pricing.priceMicro`.
 * The result is validated again with `parseScenario`, so a bad value is reported with its path.
 */
export const OVERRIDE_NAMES_HELP =
  'protocol params (auditRate or params.auditRate), durationMs, sim.<field> (sim.costPerCpuSecondMicro, sim.adaptive.epsilon), ' +
  'group fields by index or name (miners[2].count, clients[0].ratePerSec, miners.adaptive.stakeMicro)';

type Path = (string | number)[];

function parsePath(name: string): Path {
  const out: Path = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(name))) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function badName(name: string, why: string): never {
  throw new InfermarketError('ERR_BAD_SCENARIO', `override "${name}": ${why}; accepted names: ${OVERRIDE_NAMES_HELP}`, { details: { field: name } });
}

/** Coerce a CLI string to the JSON type the field expects (numbers stay numbers; amounts stay strings). */
function coerceLike(current: unknown, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (typeof current === 'string') return value;
  if (typeof current === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (value.trim() !== '' && Number.isFinite(Number(value)) && !/^0\d/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

const AMOUNT_FIELDS = new Set(['stakeMicro', 'maxPriceMicro', 'costPerCpuSecondMicro', 'priceMicro']);

/**
 * Apply named overrides to a scenario and re-validate it. The input scenario is not modified.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the override (or the scenario path) that is wrong.
 * @example applyOverrides(s, { auditRate: 0.05, 'miners[1].count': 4, 'sim.costPerCpuSecondMicro': '2000' })
 */
export function applyOverrides(scenario: Scenario, overrides: Readonly<Record<string, string | number | boolean>>): Scenario {
  const s = structuredClone(scenario) as unknown as Record<string, unknown>;
  for (const [name, raw] of Object.entries(overrides)) {
    let path = parsePath(name);
    if (path.length === 0) badName(name, 'empty name');
    if (path.length === 1 && (PARAM_NAMES as string[]).includes(path[0] as string)) path = ['params', path[0]!];
    if (path[0] === 'seed') badName(name, 'the seed is set by --seed / --seeds, not as a parameter');
    if (path[0] === 'params') {
      if (path.length !== 2 || !(PARAM_NAMES as string[]).includes(path[1] as string)) badName(name, `unknown protocol parameter "${String(path[1])}"`);
      const params = ((s.params as Record<string, unknown>) ??= {});
      params[path[1] as string] = raw;
      continue;
    }
    // group by name: miners.<name>.field
    if ((path[0] === 'miners' || path[0] === 'validators' || path[0] === 'clients') && typeof path[1] === 'string') {
      const list = s[path[0]] as { name?: string; strategy?: string }[];
      const idx = list.findIndex((g) => (g.name ?? g.strategy ?? 'client') === path[1]);
      if (idx < 0) badName(name, `no ${path[0]} group named "${path[1]}"`);
      path = [path[0], idx, ...path.slice(2)];
    }
    let cur: unknown = s;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      const holder = cur as Record<string | number, unknown>;
      if (holder[key] === undefined) {
        if (typeof key === 'number') badName(name, `index ${key} is out of range`);
        holder[key] = typeof path[i + 1] === 'number' ? [] : {};
      }
      cur = holder[key];
      if (typeof cur !== 'object' || cur === null) badName(name, `"${path.slice(0, i + 1).join('.')}" is not an object`);
    }
    const last = path[path.length - 1]!;
    const holder = cur as Record<string | number, unknown>;
    let value = coerceLike(holder[last], raw);
    if (typeof last === 'string' && AMOUNT_FIELDS.has(last) && typeof value === 'number') value = String(value);
    holder[last] = value;
  }
  return parseScenario(s);
}
