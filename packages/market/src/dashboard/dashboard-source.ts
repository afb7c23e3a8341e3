import type { FeedEvent, MarketStatsView } from '@infermarket/protocol';

/**
 * What the dashboard reads from the market: a snapshot of the whole market on demand, and a stream of
 * notable events as they happen. The market implements it over its live state; tests can implement it
 * over a protocol state they drive themselves.
 */
export interface DashboardSource {
  /** The market at this moment (`GET /v1/stats` returns the same view). */
  snapshot(): MarketStatsView;
  /**
   * Calls `fn` with each batch of new feed events, in order, until the returned function is called.
   * @returns unsubscribe
   */
  subscribe(fn: (events: FeedEvent[]) => void): () => void;
}
