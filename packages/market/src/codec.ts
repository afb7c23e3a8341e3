/**
 * JSON with bigints, for the event log: a bigint `n` is stored as `{"$n":"<decimal>"}` so replay gets
 * back exactly the values `apply` saw. Plain JSON otherwise.
 */

/** Encode a value holding bigints (and Maps/Sets nowhere: events are plain data) as JSON text. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { $n: v.toString() } : v));
}

/**
 * `encodeJson` for a protocol event, faster: events keep their bigints at the top level, so a shallow
 * copy with bigints boxed avoids a replacer call per value. Same output as `encodeJson`.
 */
export function encodeEvent(event: object): string {
  let copy: Record<string, unknown> | null = null;
  for (const k in event) {
    const v = (event as Record<string, unknown>)[k];
    if (typeof v === 'bigint') {
      copy ??= { ...(event as Record<string, unknown>) };
      copy[k] = { $n: v.toString() };
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // nested objects (timers) are flat and carry no bigints today; anything else takes the exact slow path
      for (const kk in v as Record<string, unknown>) {
        const vv = (v as Record<string, unknown>)[kk];
        if (typeof vv === 'bigint' || (vv !== null && typeof vv === 'object')) return encodeJson(event);
      }
    }
  }
  return JSON.stringify(copy ?? event);
}

/** Decode text written by `encodeJson`, reviving bigints. */
export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$n === 'string' && Object.keys(o).length === 1) return BigInt(o.$n);
    }
    return v;
  }) as T;
}
