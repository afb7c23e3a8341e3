/**
 * A min-heap of timed events for the virtual clock. Events at the same time come out in insertion order
 * (each push takes the next sequence number), so a run is deterministic.
 */
export interface EventQueue<T> {
  push(atMs: number, item: T): void;
  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number;
  /** Remove and return the earliest event (undefined when empty). */
  pop(): T | undefined;
  readonly size: number;
}

/** A binary-heap event queue with a deterministic tie-break by insertion sequence. */
export function createEventQueue<T>(): EventQueue<T> {
  // parallel arrays: fewer allocations than one object per entry
  const times: number[] = [];
  const seqs: number[] = [];
  const items: T[] = [];
  let seq = 0;
  const less = (i: number, j: number): boolean => times[i]! < times[j]! || (times[i] === times[j] && seqs[i]! < seqs[j]!);
  const swap = (i: number, j: number): void => {
    const t = times[i]!;
    times[i] = times[j]!;
    times[j] = t;
    const s = seqs[i]!;
    seqs[i] = seqs[j]!;
    seqs[j] = s;
    const x = items[i]!;
    items[i] = items[j]!;
    items[j] = x;
  };
  return {
    push(atMs, item) {
      let i = times.length;
      times.push(atMs);
      seqs.push(seq++);
      items.push(item);
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(i, p)) break;
        swap(i, p);
        i = p;
      }
    },
    peekTime() {
      return times.length ? times[0]! : Infinity;
    },
    pop() {
      const n = times.length;
      if (n === 0) return undefined;
      const top = items[0]!;
      const last = n - 1;
      if (last > 0) swap(0, last);
      times.pop();
      seqs.pop();
      items.pop();
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < last && less(l, m)) m = l;
        if (r < last && less(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
      return top;
    },
    get size() {
      return times.length;
    },
  };
}
