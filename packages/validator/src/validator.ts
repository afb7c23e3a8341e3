import { randomBytes } from 'node:crypto';
import {
  compareJobOutputs,
  hashPayload,
  InfermarketError,
  openJobKey,
  recheckSampledTokens,
  sampledRecheckDue,
  sealJson,
  unsealJson,
  type Canonical,
  type EncryptionKeyPair,
  type JobInput,
  type JobOutput,
  type JobView,
  type MarketStatsView,
  type KeyPair,
  type ServerMessage,
  type ValidatorStrategy,
} from '@infermarket/protocol';
import { builtinValidatorStrategy, createValidatorStrategy, type ValidatorStrategyModule } from '@infermarket/agents';
import { nodeRng, startNode, type Executor, type Node } from '@infermarket/node-runtime';
import { cheapClaim } from './lazy.js';
import { createValidatorBisection } from './bisect.js';

/** Options for `createValidator`. */
export interface ValidatorOptions {
  wsUrl: string;
  keys: KeyPair;
  executor: Executor;
  models: string[];
  strategy?: ValidatorStrategy;
  /** A user's strategy module (`loadStrategyModule`), used instead of the built-in `strategy`. */
  strategyModule?: ValidatorStrategyModule;
  /** Seeds the strategy's own random stream (`init.rng`; default 0). */
  seed?: number | string;
  /** Variant re-executed when the market does not say which one the miner claimed (default int8). */
  variant?: string;
  region?: string;
  stakeMicro?: bigint;
  /** Ask the market's faucet for what the stake needs (default true; off for markets without a faucet). */
  useFaucet?: boolean;
  /** Balance to ask the faucet for when the account is new (stake included; the scenario resolver's `fundMicro`): what it can restake from after a slash. Default: just the stake. */
  fundMicro?: bigint;
  /** `colluding`: addresses of the miners it never reports. */
  colludeWith?: string[];
  log?: (entry: Record<string, unknown>) => void;
}

/** Counters of a validator. */
export interface ValidatorStats {
  tasks: number;
  audits: number;
  disputes: number;
  reexecuted: number;
  lazyClaims: number;
  colludedClaims: number;
  refused: number;
  slashes: number;
  slashedMicro: bigint;
}

/** A running validator. */
export interface Validator {
  readonly address: string;
  ready(): Promise<void>;
  stats(): ValidatorStats;
  stop(): Promise<void>;
}

/**
 * A validator process's logic: log in, register and bond as a validator, and answer each `audit.task`
 * (an audit or a dispute referee task; input only, never the miner's output) with a signed
 * `audit.output`. Strategies:
 * - `honest` re-executes the claimed variant on the reference session (the manifest's pinned options);
 * - `lazy` does not re-execute: it claims its last re-executed output for the model, or zeros of the right
 *   shape (see `cheapClaim`). Blind to the miner's answer, it mismatches honest miners, opens disputes it
 *   loses, and is slashed for false accusations: laziness is visible;
 * - `colluding` re-executes honestly, except on tasks (audits and disputes) about the miners in
 *   `colludeWith`: for those it stays silent, so the audit window lapses and the job settles as if
 *   unaudited — the partner is never reported (it cannot copy the miner's output instead: the market
 *   shows it to nobody while an audit is pending). It forgoes the audit fee; it is not slashed.
 * Which of these a task gets is decided by the agents' `planTask`, the function the simulator calls.
 */
export function createValidator(options: ValidatorOptions): Validator {
  if (options.strategyModule && options.strategy) throw new InfermarketError('ERR_VALIDATION', `ValidatorOptions: give "strategy" (a built-in) or "strategyModule" (a loaded module), not both`);
  const strategyMod = options.strategyModule ?? builtinValidatorStrategy(options.strategy ?? 'honest');
  // its name in logs and reports: the built-in's, or the module's declared name
  const strategy = strategyMod.name;
  const decide = createValidatorStrategy(strategyMod, { rng: nodeRng(options.seed ?? 0, 'validator', options.keys.address, 'strategy') });
  const variant = options.variant ?? 'int8';
  const log = options.log ?? ((e) => process.stderr.write(`${JSON.stringify({ t: Date.now(), role: 'validator', ...e })}\n`));
  const colluded = new Set(options.colludeWith ?? []);
  const lastOutput = new Map<string, JobOutput>();
  const stats: ValidatorStats = { tasks: 0, audits: 0, disputes: 0, reexecuted: 0, lazyClaims: 0, colludedClaims: 0, refused: 0, slashes: 0, slashedMicro: 0n };
  /** Private audits committed and awaiting the reveal of the miner's output. */
  // bisection disputes: its audits' boundary tensors (as challenger) and segment re-execution (as referee)
  const bisection = createValidatorBisection({ executor: options.executor, log: (e) => log(e), enabled: () => node.conn.params().disputeMode === 'bisection' });
  const awaiting = new Map<string, { own: JobOutput; jobKeys: EncryptionKeyPair | null; input: JobInput; model: string; variant: string; reexecuted: boolean }>();

  /** Whose job is this? (public metadata: the assigned miner) — a colluding validator stays silent on its partners' jobs. */
  const minerOf = async (jobId: string): Promise<string | null> => {
    try {
      const res = await fetch(`${node.httpUrl}/v1/jobs/${encodeURIComponent(jobId)}`, { signal: AbortSignal.timeout(5_000) });
      return res.ok ? ((await res.json()) as JobView).miner : null;
    } catch {
      return null;
    }
  };

  /** Variants miners claimed, from the market's public node list (when the task does not say). */
  const variants = new Map<string, string>();
  let variantsAt = 0;
  const claimedVariant = async (jobId: string): Promise<string | null> => {
    try {
      const res = await fetch(`${node.httpUrl}/v1/jobs/${encodeURIComponent(jobId)}`, { signal: AbortSignal.timeout(5_000) });
      const miner = res.ok ? ((await res.json()) as JobView).miner : null;
      if (!miner) return null;
      if (!variants.has(miner) && Date.now() - variantsAt > 1_000) {
        variantsAt = Date.now();
        const s = (await (await fetch(`${node.httpUrl}/v1/stats`, { signal: AbortSignal.timeout(5_000) })).json()) as MarketStatsView;
        for (const n of s.nodes) if (n.variant) variants.set(n.address, n.variant);
      }
      return variants.get(miner) ?? null;
    } catch {
      return null;
    }
  };

  const onTask = async (msg: Extract<ServerMessage, { type: 'audit.task' }>): Promise<void> => {
    stats.tasks++;
    if (msg.purpose === 'dispute') stats.disputes++;
    else stats.audits++;
    const claimed = msg.variant ?? (await claimedVariant(msg.jobId)) ?? variant;
    try {
      // a private job: the client sealed the job key to us; it opens the input (and later the miner's output)
      let jobKeys: EncryptionKeyPair | null = null;
      let input: JobInput = msg.input;
      if (msg.input.kind === 'sealed') {
        if (!msg.jobKey) throw new Error(`private job ${msg.jobId} came without its job key`);
        jobKeys = openJobKey(node.encKeys, msg.jobKey, msg.input.sealed.to);
        input = unsealJson<JobInput>(jobKeys, msg.input.sealed);
      }
      // whose job is this? (public metadata) — only a validator with partners (`colludeWith`) needs to know
      const partner = colluded.size > 0 ? colluded.has((await minerOf(msg.jobId)) ?? '') : false;
      const action = decide.planTask({ purpose: msg.purpose === 'dispute' ? 'dispute' : 'audit', jobId: msg.jobId, minerIsPartner: partner });
      if (action === 'silent') {
        // never report a partner: say nothing, so the window lapses (the market shows nobody the miner's
        // output while an audit is pending, so it cannot be copied to vouch for it)
        stats.colludedClaims++;
        log({ event: 'audit.silent', jobId: msg.jobId, model: msg.model, purpose: msg.purpose, how: 'colluded' });
        return;
      }
      let output: JobOutput;
      let how = 'reexecuted';
      let ms = 0;
      if (action === 'cheap-claim') {
        output = cheapClaim(input, lastOutput.get(msg.model) ?? null, options.executor.outputDims(msg.model, input));
        how = 'lazy';
        stats.lazyClaims++;
      } else {
        // an auditor keeps its run's layer boundaries (it may become the challenger of a bisection); a referee needs none
        const r = jobKeys || msg.purpose !== 'audit' ? await options.executor.execute({ model: msg.model, variant: claimed, input, reference: true }) : await bisection.reexecute({ jobId: msg.jobId, model: msg.model, variant: claimed, input, ...(msg.rows ? { rows: msg.rows } : {}) });
        output = r.output;
        ms = r.ms;
        stats.reexecuted++;
        lastOutput.set(msg.model, output);
      }
      const claim: JobOutput = output;
      const conn = node.conn;
      const envelope = conn.seal('audit.output', { jobId: msg.jobId, outputHash: hashPayload(claim) });
      if (jobKeys) {
        // commit first (hash of the plaintext, the output sealed to the job key); the verdict follows the reveal
        awaiting.set(msg.jobId, { own: claim, jobKeys, input, model: msg.model, variant: claimed, reexecuted: how === 'reexecuted' });
        const sealed: JobOutput = { kind: 'sealed', sealed: sealJson(jobKeys.publicKey, claim as unknown as Canonical, randomBytes(56)) };
        await conn.request({ type: 'audit.output', envelope: envelope as never, output: sealed });
      } else {
        // a sampled generation may be revealed for a teacher-forced re-check when it differs (sampledRecheckDue)
        if (input.kind === 'prompt' && input.temperature > 0 && claim.kind === 'tokens') {
          awaiting.set(msg.jobId, { own: claim, jobKeys: null, input, model: msg.model, variant: claimed, reexecuted: how === 'reexecuted' });
        }
        await conn.request({ type: 'audit.output', envelope: envelope as never, output: claim });
      }
      // ms: compute spent re-executing (0 when it did not), for the verification-cost benchmark
      log({ event: 'audit.sent', jobId: msg.jobId, model: msg.model, purpose: msg.purpose, how, ms: Math.round(ms * 100) / 100 });
    } catch (e) {
      stats.refused++;
      log({ event: 'audit.error', jobId: msg.jobId, error: (e as Error).message });
    }
  };

  /** Private audit, after the commit: open the miner's output, check it against its signed hash, compare, sign the verdict. */
  const onReveal = async (msg: Extract<ServerMessage, { type: 'audit.reveal' }>): Promise<void> => {
    const a = awaiting.get(msg.jobId);
    if (!a) return;
    awaiting.delete(msg.jobId);
    let match = false;
    let flagged: number[] = [];
    try {
      if (msg.output.kind === 'sealed' && !a.jobKeys) throw new Error(`job ${msg.jobId}: a sealed output revealed for a public audit`);
      const mined = msg.output.kind === 'sealed' ? unsealJson<JobOutput>(a.jobKeys!, msg.output.sealed) : msg.output;
      // a miner whose sealed output is not the one it signed is wrong, whatever the output says
      if (hashPayload(mined) === msg.outputHash) {
        if (a.reexecuted && a.input.kind === 'prompt' && mined.kind === 'tokens' && sampledRecheckDue(a.input, mined, a.own)) {
          // sampled generation that differs from ours: re-run on the miner's tokens (teacher-forced) and accept
          // a token only within the calibrated margin of a sampling boundary (flagged)
          if (!options.executor.forcedSteps) throw new Error('this executor cannot re-run a generation on given tokens (forcedSteps): no verdict');
          const steps = await options.executor.forcedSteps({ model: a.model, variant: a.variant, input: a.input, tokens: mined.tokens });
          const r = recheckSampledTokens(a.input, msg.comparator, steps, mined.tokens);
          match = r.match;
          flagged = r.match ? r.flagged : [];
          log({ event: 'audit.recheck', jobId: msg.jobId, match, flagged: r.flagged, margin: r.margin, reason: r.reason });
        } else if (mined.kind !== 'sealed' && a.own.kind !== 'sealed') {
          // the protocol's one comparison, as the market applies it to public jobs
          match = compareJobOutputs({ comparator: msg.comparator, generationComparator: msg.generationComparator }, mined, a.own).match;
        }
      }
    } catch (e) {
      // a malformed comparator spec is the market's misconfiguration, not the miner's fault: no verdict
      if (e instanceof InfermarketError && e.code === 'ERR_BAD_COMPARATOR') {
        stats.refused++;
        log({ event: 'reveal.error', jobId: msg.jobId, code: e.code, error: e.message });
        return;
      }
      log({ event: 'reveal.error', jobId: msg.jobId, error: (e as Error).message });
    }
    const conn = node.conn;
    try {
      await conn.request({ type: 'audit.verdict', envelope: conn.seal('audit.verdict', { jobId: msg.jobId, match, ...(flagged.length ? { flagged } : {}) }) as never });
      log({ event: 'audit.verdict', jobId: msg.jobId, match });
    } catch (e) {
      stats.refused++;
      log({ event: 'verdict.error', jobId: msg.jobId, error: (e as Error).message });
    }
  };

  const node: Node = startNode({
    wsUrl: options.wsUrl,
    keys: options.keys,
    role: 'validator',
    models: options.models,
    variant,
    region: options.region ?? 'local',
    stakeMicro: options.stakeMicro ?? 500_000_000n,
    useFaucet: options.useFaucet !== false,
    ...(options.fundMicro !== undefined ? { fundMicro: options.fundMicro } : {}),
    log,
    onMessage: (msg) => {
      if (msg.type === 'audit.task') void onTask(msg);
      else if (msg.type === 'audit.reveal') void onReveal(msg);
      else if (msg.type === 'bisect.turn') void bisection.onTurn(msg, node.conn);
      else if (msg.type === 'bisect.segment') void bisection.onSegment(msg, node.conn, variant);
      else if (msg.type === 'slashed') {
        stats.slashes++;
        stats.slashedMicro += BigInt(msg.amountMicro);
        log({ event: 'slashed', jobId: msg.jobId, amountMicro: msg.amountMicro, reason: msg.reason });
      }
    },
    onRegistered: ({ stakeMicro }) => log({ event: 'ready', address: options.keys.address, strategy, stakeMicro: stakeMicro.toString() }),
  });

  return {
    address: options.keys.address,
    ready: () => node.ready(),
    stats: () => ({ ...stats }),
    stop: () => node.stop(),
  };
}
