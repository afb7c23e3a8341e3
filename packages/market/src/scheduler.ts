import type { Timer } from '@infermarket/protocol';

/** A timer the rules asked for, waiting to be fired back as a `timer.fire` event. */
export interface ScheduledTimer {
  atMs: number;
  seq: number;
  timer: Timer;
}

/** Options for `createScheduler`. */
export interface SchedulerOptions {
  /** Wall clock in ms (absolute, like `Date.now()`). */
  now: () => number;
  /** Called for each due timer, in (atMs, insertion) order. Errors are the caller's to handle. */
  fire: (t: ScheduledTimer) => void;
}

/** Timers in a binary min-heap with one `setTimeout` armed for the earliest. */
export interface Scheduler {
  add(atMs: number, timer: Timer): void;
  /** Fire every timer due now (also overdue ones after a restart). */
  runDue(): void;
  size(): number;
  /** The pending timers, earliest first (for tests and diagnostics). */
  pending(): ScheduledTimer[];
  stop(): void;
}

function less(a: ScheduledTimer, b: ScheduledTimer): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/** Create a scheduler; nothing fires until a timer is added. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const heap: ScheduledTimer[] = [];
  let seq = 0;
  let handle: NodeJS.Timeout | null = null;
  let armedAt = Infinity;
  let stopped = false;

  const push = (t: ScheduledTimer): void => {
    heap.push(t);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): ScheduledTimer | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  const arm = (): void => {
    if (stopped) return;
    const next = heap[0];
    if (!next) return;
    if (handle && armedAt <= next.atMs) return;
    if (handle) clearTimeout(handle);
    armedAt = next.atMs;
    handle = setTimeout(() => {
      // fire from the check phase, after this turn's I/O poll: a bid (or result) already read off a socket
      // is applied before the window it arrived in closes
      setImmediate(() => {
        handle = null;
        armedAt = Infinity;
        sched.runDue();
      });
    }, Math.max(0, next.atMs - options.now()));
  };

  const sched: Scheduler = {
    add(atMs, timer) {
      push({ atMs, seq: seq++, timer });
      arm();
    },
    runDue() {
      if (stopped) return;
      const now = options.now();
      while (heap[0] && heap[0].atMs <= now && !stopped) options.fire(pop()!);
      arm();
    },
    size: () => heap.length,
    pending: () => [...heap].sort((a, b) => (less(a, b) ? -1 : 1)),
    stop() {
      stopped = true;
      if (handle) clearTimeout(handle);
      handle = null;
    },
  };
  return sched;
}
