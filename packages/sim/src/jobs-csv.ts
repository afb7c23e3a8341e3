import { createJobLog, type Effect, type JobLog, type MarketEvent, type RunReport, type Scenario } from '@infermarket/protocol';

/**
 * `jobs.csv` of a simulation: the protocol's job log (the same code the live market writes it with), with
 * miners named by the report's instance ids and strategies and the variant their group claims.
 * Time to first token is not modelled per job in the simulator: that column is empty.
 */
export interface SimJobsCsv {
  /** Pass as `runSimulation(..., { onApplied })`. */
  onApplied(event: MarketEvent, effects: readonly Effect[]): void;
  /** The CSV text once the run finished. */
  csv(report: RunReport, scenario: Scenario): string;
}

/** Start recording a simulation's jobs. */
export function recordSimJobs(): SimJobsCsv {
  const log: JobLog = createJobLog();
  return {
    onApplied: (event, effects) => log.observe(event, effects),
    csv(report, scenario) {
      const byAddress = new Map(report.miners.map((m) => [m.address, m]));
      const variantOf = (id: string): string | undefined => {
        const base = id.split('#')[0]!;
        const g = scenario.miners.find((x) => {
          const prefix = `${x.name ?? x.strategy}-`;
          return base.startsWith(prefix) && /^\d+$/.test(base.slice(prefix.length));
        });
        return g ? (g.variant ?? 'int8') : undefined;
      };
      return log.toCsv({
        name: (a) => byAddress.get(a)?.id,
        strategy: (a) => byAddress.get(a)?.strategy,
        variant: (a) => {
          const m = byAddress.get(a);
          return m ? variantOf(m.id) : undefined;
        },
      });
    },
  };
}
