import { nodeEncryptionKeys, type EncryptionKeyPair, type KeyPair, type ServerMessage } from '@infermarket/protocol';
import { createLabeledRng, type Rng } from '@infermarket/agents';
import { createNodeConnection, type NodeConnection } from './connection.js';
import { ensureRegistered, httpUrlOf } from './setup.js';

/** Options for `startNode`: who the node is, where it connects and what it registers as. */
export interface NodeOptions {
  /** Market node socket, e.g. `ws://127.0.0.1:8545/v1/nodes`. */
  wsUrl: string;
  keys: KeyPair;
  role: 'miner' | 'validator';
  models: string[];
  /** Variant declared at registration. */
  variant: string;
  region: string;
  /** Bonded stake to reach at the first login (after a reconnect the stake is what the market left). */
  stakeMicro: bigint;
  /** Ask the market's faucet for what the stake needs (default true). */
  useFaucet?: boolean;
  /** Balance to ask the faucet for when the account is new (stake included; the scenario resolver's `fundMicro`): what it can restake from after a slash. Default: just the stake. */
  fundMicro?: bigint;
  /** Reconnect backoff floor (default 250 ms). */
  reconnectMinMs?: number;
  /** Every market message after login. */
  onMessage: (msg: ServerMessage) => void;
  /** After each login and registration: the bonded stake. */
  onRegistered?: (info: { stakeMicro: bigint }) => void;
  onClose?: (info: { willReconnect: boolean }) => void;
  log: (entry: Record<string, unknown>) => void;
}

/** A running node: the logged-in connection, its x25519 keys, and its registration state. */
export interface Node {
  readonly address: string;
  readonly conn: NodeConnection;
  /** HTTP base of the market. */
  readonly httpUrl: string;
  /** x25519 keys for private jobs, derived from the signing key and published in the signed registration. */
  readonly encKeys: EncryptionKeyPair;
  /** Logged in and registered now (false while reconnecting). */
  registered(): boolean;
  /** Resolves once connected, registered and bonded the first time. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The one node runtime the miner and the validator stand on: log in over the node socket (reconnecting
 * when the market restarts), register with the role, models, variant, region and encryption key, fund
 * from the faucet and bond up to the target stake once. What the node then does with the market's
 * messages is its own (`onMessage`).
 */
export function startNode(options: NodeOptions): Node {
  const httpUrl = httpUrlOf(options.wsUrl);
  const encKeys = nodeEncryptionKeys(options.keys);
  let setupDone = false;
  let registered = false;
  let readyResolve: () => void = () => {};
  const readyP = new Promise<void>((r) => (readyResolve = r));
  const conn: NodeConnection = createNodeConnection({
    wsUrl: options.wsUrl,
    keys: options.keys,
    onMessage: options.onMessage,
    reconnectMinMs: options.reconnectMinMs ?? 250,
    log: (line) => options.log({ event: 'conn', msg: line }),
    onClose: ({ willReconnect }) => {
      registered = false;
      options.log({ event: 'disconnected', willReconnect });
      options.onClose?.({ willReconnect });
    },
    onReady: async () => {
      const { stakeMicro } = await ensureRegistered(conn, options.keys, httpUrl, {
        role: options.role,
        models: options.models,
        variant: options.variant,
        region: options.region,
        encryptionKey: encKeys.publicKey,
        // bond up to the target once; after a reconnect the stake is what the market left (slashes stay visible)
        stakeMicro: setupDone ? 0n : options.stakeMicro,
        useFaucet: options.useFaucet !== false,
        ...(!setupDone && options.fundMicro !== undefined ? { fundMicro: options.fundMicro } : {}),
      });
      setupDone = true;
      registered = true;
      options.onRegistered?.({ stakeMicro });
      readyResolve();
    },
  });
  return {
    address: options.keys.address,
    conn,
    httpUrl,
    encKeys,
    registered: () => registered,
    ready: () => readyP,
    stop: () => conn.close(),
  };
}

/** One of a node's independent, reproducible random streams: (seed, role/address/purpose) → the agents' generator. */
export function nodeRng(seed: number | string, role: 'miner' | 'validator', address: string, purpose: string): Rng {
  return createLabeledRng(seed, `${role}/${address}/${purpose}`);
}
