import { InfermarketError, type Envelope, type JobOutput, type JobView } from '@infermarket/protocol';
import { minerOutput, type MarketCore } from './core.js';

/**
 * While an audit or dispute is open the miner's output is shown to nobody: this view is public, and a
 * validator that could read it would copy it instead of re-executing blind.
 */
export function auditPending(status: string): boolean {
  return status === 'auditing' || status === 'disputed';
}

/**
 * A view of a job (`GET /v1/jobs/:id`). Its client (`owner: true`, a request with its read token) sees
 * the output once the miner committed it (withheld while an audit is pending, and if the miner was
 * slashed for it), the miner's signed result and the market's signed receipt once it finished. Anyone
 * else sees metadata only: status, model, parties, prices, timings — output, result and receipt null.
 * @throws InfermarketError `ERR_UNKNOWN_JOB`
 */
export function jobView(core: MarketCore, id: string, access: { owner: boolean } = { owner: false }): JobView {
  const job = core.state.jobs.get(id);
  if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `no job with id ${JSON.stringify(id)}`, { details: { field: 'id' } });
  const x = core.extra(id);
  const output: JobOutput | null = access.owner && job.outputHash && job.failure !== 'miner-slashed' && !auditPending(job.status) ? (minerOutput(core, id) ?? null) : null;
  return {
    id: job.id,
    model: job.model,
    client: job.client,
    status: job.status,
    failure: job.failure,
    attempt: job.attempt,
    miner: job.miner,
    priceMicro: job.priceMicro.toString(),
    maxPriceMicro: job.maxPriceMicro.toString(),
    // a batch job: its rows (the prices above are the whole job's, per row × rows)
    ...(job.rows ? { rows: job.rows } : {}),
    audited: job.audited,
    region: job.miner ? (core.state.nodes.get(job.miner)?.region ?? null) : null,
    submittedAtMs: job.submittedAtMs,
    finishedAtMs: job.finishedAtMs,
    ttftMs: x.ttftMs,
    latencyMs: x.latencyMs,
    output,
    result: access.owner && x.result ? (JSON.parse(x.result) as Envelope<'job.result'>) : null,
    receipt: access.owner && x.receipt ? (JSON.parse(x.receipt) as Envelope<'job.receipt'>) : null,
  };
}

/** One standing offer as `GET /v1/offers` shows it (amounts as decimal strings of micro-mUSD). */
export interface OfferView {
  miner: string;
  pricesMicro: Record<string, string>;
  capacity: number;
  /** Jobs assigned to the miner and not yet committed: the offer takes no more once `load` reaches `capacity`. */
  load: number;
  variant: string;
  untilMs: number;
  postedAtMs: number;
  /** False while the miner is jailed, ejected or under the minimum stake: its offer then matches nothing. */
  eligible: boolean;
}

/**
 * The standing offers live now (`untilMs` still ahead), in posting order — the inputs matching reads, so
 * anyone can see who sells which model at what price and check a match against them. Empty in an auction
 * market, where nobody posts offers.
 */
export function offersView(state: MarketCore['state'], now: number): { matchingMode: string; nowMs: number; offers: OfferView[] } {
  const offers: OfferView[] = [];
  for (const o of [...state.offers.values()].sort((a, b) => a.seq - b.seq)) {
    if (o.untilMs <= now) continue;
    const node = state.nodes.get(o.miner);
    offers.push({
      miner: o.miner,
      pricesMicro: Object.fromEntries([...o.prices].map(([m, p]) => [m, p.toString()])),
      capacity: o.capacity,
      load: state.busy.get(o.miner) ?? 0,
      variant: o.variant,
      untilMs: o.untilMs,
      postedAtMs: o.postedAtMs,
      eligible: !!node && !node.ejected && node.jailedUntilMs <= now && node.stakeMicro >= state.params.minMinerStakeMicro,
    });
  }
  return { matchingMode: state.params.matchingMode, nowMs: now, offers };
}
