import type { Command } from 'commander';
import { InfermarketError, type DeterrenceTerms } from '@infermarket/protocol';
import { scenarioThreshold, type ScenarioThreshold } from '@infermarket/sim';
import { collectSet, loadScenarioFile, withCalibration } from './sim.js';

function probabilityOption(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InfermarketError('ERR_VALIDATION', `${field} must be a probability in [0, 1], got ${JSON.stringify(v)}`, { details: { field } });
    return n;
  };
}

function countOption(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InfermarketError('ERR_VALIDATION', `${field} must be a non-negative integer, got ${JSON.stringify(v)}`, { details: { field } });
    return n;
  };
}

const fmt = (v: number | null): string => (v === null ? '—' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(5)).toString());

/** Rows of (term, value, meaning) for one threshold row. */
const TERM_LINES: [keyof DeterrenceTerms, string][] = [
  ['computeCostMicro', 'C: compute a cheater saves per job (micro-mUSD)'],
  ['rewardMicro', 'R: price paid for the job (micro-mUSD)'],
  ['slashMicro', 'S: one slash (micro-mUSD)'],
  ['lossWhenCaughtMicro', 'R + S (+ extra): what a caught cheat loses'],
  ['validators', 'validators that can audit the model'],
  ['colludingValidators', 'of them colluding with this miner'],
  ['referees', 'referees per dispute: min(disputeQuorum, validators − 1)'],
  ['majority', 'votes that decide (accuser included)'],
  ['auditorColludes', 'P(auditor colludes)'],
  ['refereesShieldCheat', 'P(colluding referees save a disputed cheat)'],
  ['detectionGivenAudit', 'P(cheat slashed | audited)'],
  ['honestAuditorOutvoted', 'P(honest auditor outvoted and slashed | cheat audited)'],
  ['auditAnswered', 'P(audit answered in time)'],
  ['falsePositiveGivenAudit', 'P(honest result slashed | audited)'],
  ['netDetectionGivenAudit', 'answered × (detection − false positive)'],
];

function formatTheory(t: ScenarioThreshold): string {
  const lines: string[] = [];
  lines.push(`scenario ${t.scenario}${Object.keys(t.overrides).length ? `  (${Object.entries(t.overrides).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`);
  lines.push(`params   auditRate ${t.params.auditRate}  slashFractionBps ${t.params.slashFractionBps}  disputeQuorum ${t.params.disputeQuorum}  matching ${t.params.matchingPolicy}`);
  for (const row of t.rows) {
    const th = row.threshold;
    lines.push('');
    lines.push(`${row.strategy} miners ${row.miners.length === 1 ? row.miners[0] : `${row.miners[0]}…${row.miners[row.miners.length - 1]} (${row.miners.length})`} on ${row.model} (${row.variant})`);
    const w = Math.max(...TERM_LINES.map(([k]) => k.length));
    for (const [k, meaning] of TERM_LINES) lines.push(`  ${k.padEnd(w)}  ${fmt(th.terms[k]).padStart(12)}  ${meaning}`);
    lines.push(`  ${'p*'.padEnd(w)}  ${fmt(th.pStar).padStart(12)}  audit rate above which cheating stops paying${th.pStarReason ? ` — none: ${th.pStarReason}` : th.deterrable ? '' : ' — above 1: no audit rate deters'}`);
    lines.push(`  ${'PoSP C/(R+S)'.padEnd(w)}  ${fmt(th.posp.simple).padStart(12)}  C/((1−r)(R+S)) ${fmt(th.posp.withCollusion)}, C/((1−r)S+(1−2r)R) ${fmt(th.posp.propositionOne)}`);
    if (th.atAuditRate) {
      const a = th.atAuditRate;
      lines.push(`  at auditRate ${a.auditRate}: P(cheat slashed) ${fmt(a.detection)}, payoff honest ${fmt(a.honestPayoffMicro)} vs cheat ${fmt(a.cheatPayoffMicro)} → ${a.cheatingPays ? 'cheating pays' : 'honesty pays'}`);
    }
    lines.push(`  from: C = ${row.sources.computeCostMicro}; R = ${row.sources.rewardMicro}; S = ${row.sources.slashMicro}; ${row.sources.validators}`);
  }
  if (t.notes.length) {
    lines.push('');
    lines.push('not in p*:');
    for (const n of t.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `infermarket theory`. */
export function register(program: Command): void {
  program
    .command('theory')
    .description("The protocol's analytic cheating threshold for a scenario: C, R, S, detection under the rules (audit rate, dispute quorum and majority, colluding auditors and referees, audit timeouts, honest divergence) and p*, every term named.")
    .option('--scenario <file>', 'scenario JSON file')
    .option('--set <name=value>', 'override applied first, as in `sim` and `sweep` (repeatable)', collectSet, {})
    .option('--audit-timeout-rate <p>', 'chance an audit goes unanswered in its window (default 0)', probabilityOption('--audit-timeout-rate'))
    .option('--audit-reassignments <n>', 'further auditors drawn after a timeout (default 0: today\'s rules)', countOption('--audit-reassignments'))
    .option('--models <dir>', 'models directory whose manifest.json calibrates compute costs (as `sim` does)', 'models')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  infermarket theory --scenario scenarios/posp-threshold.json --set validators[0].count=10\n')
    .action((opts: { scenario?: string; set: Record<string, string>; auditTimeoutRate?: number; auditReassignments?: number; models: string; json?: boolean }) => {
      if (!opts.scenario) throw new InfermarketError('ERR_VALIDATION', '--scenario <file> is required', { details: { field: '--scenario' } });
      const scenario = withCalibration(loadScenarioFile(opts.scenario), opts.models, opts.json === true);
      const t = scenarioThreshold(scenario, {
        overrides: opts.set,
        ...(opts.auditTimeoutRate !== undefined ? { auditTimeoutRate: opts.auditTimeoutRate } : {}),
        ...(opts.auditReassignments !== undefined ? { auditReassignments: opts.auditReassignments } : {}),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(t, null, 2)}\n` : formatTheory(t));
    });
}
