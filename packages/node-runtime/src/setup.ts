import { InfermarketError, type KeyPair, type Canonical } from '@infermarket/protocol';
import type { NodeConnection } from './connection.js';

/** HTTP base URL of a market from its node socket URL (`ws://h:p/v1/nodes` → `http://h:p`). */
export function httpUrlOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  return u.origin;
}

/** Node socket URL from what a user typed: `ws://h:p`, `ws://h:p/v1/nodes` or `http://h:p`. */
export function nodeSocketUrl(market: string): string {
  const u = new URL(market.includes('://') ? market : `ws://${market}`);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/nodes';
  return u.toString();
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    const e = json.error as { code?: string; message?: string } | undefined;
    throw new InfermarketError('ERR_INTERNAL', `${url}: ${e?.code ?? res.status} ${e?.message ?? ''}`);
  }
  return json;
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    const e = json.error as { code?: string; message?: string } | undefined;
    throw new InfermarketError('ERR_INTERNAL', `POST ${url}: ${e?.code ?? res.status} ${e?.message ?? ''}`);
  }
  return json;
}

function amountField(obj: Record<string, unknown>, name: string): bigint {
  const v = obj[name] ?? (obj.account as Record<string, unknown> | undefined)?.[name] ?? (obj.node as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
}

/** Balance and bonded stake of an account as the market reports them (`GET /v1/accounts/:address`). */
export async function accountOf(httpUrl: string, address: string): Promise<{ balanceMicro: bigint; stakeMicro: bigint; stakeToken: 'mUSD' | 'IMT' }> {
  try {
    const a = await getJson(`${httpUrl}/v1/accounts/${address}`);
    // stakes are bonded from the balance in the market's stake token (`stakeToken`, docs/economics.md)
    const stakeToken = (a as { stakeToken?: unknown }).stakeToken === 'IMT' ? 'IMT' : 'mUSD';
    const inToken = stakeToken === 'IMT' ? ((a as { tokens?: Record<string, Record<string, unknown>> }).tokens?.IMT ?? {}) : a;
    return { balanceMicro: amountField(inToken, 'balanceMicro'), stakeMicro: amountField(a, 'stakeMicro'), stakeToken };
  } catch {
    return { balanceMicro: 0n, stakeMicro: 0n, stakeToken: 'mUSD' };
  }
}

/** What a node needs in place before it works. */
export interface NodeSetup {
  role: 'miner' | 'validator';
  models: string[];
  variant: string;
  region: string;
  encryptionKey: string | null;
  /** Bonded stake to reach. */
  stakeMicro: bigint;
  /** Ask the faucet for what is missing (default true). */
  useFaucet?: boolean;
  /** Balance to ask the faucet for when the account is new (stake included; the scenario resolver's `fundMicro`): what it can restake from after a slash. Default: just the stake. */
  fundMicro?: bigint;
}

/**
 * Register (a repeat after a reconnect is fine: the market keeps the registration), fund from the faucet
 * if the balance cannot cover the stake, and bond up to `stakeMicro`. Idempotent.
 * @throws InfermarketError when the market refuses registration or bonding.
 */
export async function ensureRegistered(conn: NodeConnection, keys: KeyPair, httpUrl: string, setup: NodeSetup): Promise<{ stakeMicro: bigint }> {
  const body: Record<string, Canonical> = { role: setup.role, models: setup.models, variant: setup.variant, region: setup.region, encryptionKey: setup.encryptionKey };
  // registration and the account read are independent: one round trip instead of two
  const [, acct] = await Promise.all([
    conn.request({ type: 'node.register', envelope: conn.seal('node.register', body) as never }).catch((e: unknown) => {
      if ((e as InfermarketError).code !== 'ERR_DUPLICATE') throw e;
    }),
    accountOf(httpUrl, keys.address),
  ]);
  const need = setup.stakeMicro - acct.stakeMicro;
  // a new account is funded once to its planned balance, as the simulator funds its agents (one economy)
  if (setup.useFaucet !== false && setup.fundMicro !== undefined && acct.balanceMicro === 0n && acct.stakeMicro === 0n && setup.fundMicro > 0n) {
    await postJson(`${httpUrl}/v1/faucet`, { address: keys.address, amountMicro: setup.fundMicro, ...(acct.stakeToken === 'IMT' ? { token: 'IMT' } : {}) });
    acct.balanceMicro = setup.fundMicro;
  }
  if (need > 0n) {
    if (acct.balanceMicro < need && setup.useFaucet !== false) {
      await postJson(`${httpUrl}/v1/faucet`, { address: keys.address, amountMicro: need - acct.balanceMicro, ...(acct.stakeToken === 'IMT' ? { token: 'IMT' } : {}) });
    }
    await conn.request({ type: 'stake.bond', envelope: conn.seal('stake.bond', { amountMicro: need }) as never });
  }
  return { stakeMicro: acct.stakeMicro + (need > 0n ? need : 0n) };
}
