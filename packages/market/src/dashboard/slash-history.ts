import type { FeedEvent } from '@infermarket/protocol';
import type { DashboardSource } from './dashboard-source.js';

/** Most slashes remembered per source; a run with more is not one a person reads slash by slash. */
export const SLASH_HISTORY_CAP = 500;

const histories = new WeakMap<DashboardSource, { events: FeedEvent[]; unsubscribe: () => void }>();

/**
 * Starts remembering every `slashed` feed event of `source`, so a browser that opens the dashboard late
 * still sees every slash with its reason (the market's snapshot feed keeps only recent events).
 * Idempotent per source.
 * @returns a function that stops remembering
 */
export function trackSlashes(source: DashboardSource): () => void {
  const existing = histories.get(source);
  if (existing) return existing.unsubscribe;
  const events: FeedEvent[] = [];
  const unsubscribe = source.subscribe((batch) => {
    for (const e of batch) if (e.kind === 'slashed') events.push(e);
    if (events.length > SLASH_HISTORY_CAP) events.splice(0, events.length - SLASH_HISTORY_CAP);
  });
  const stop = (): void => {
    unsubscribe();
    histories.delete(source);
  };
  histories.set(source, { events, unsubscribe: stop });
  return stop;
}

/** The slashes remembered for `source` so far, oldest first (empty if it is not tracked). */
export function slashHistory(source: DashboardSource): readonly FeedEvent[] {
  return histories.get(source)?.events ?? [];
}
