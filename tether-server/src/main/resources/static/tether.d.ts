// Types of tether.js, the browser and Node client of Tether (wire protocol v1, docs/protocol.md).

/** The WebSocket subprotocol the client offers: 'tether.v1.json'. */
export declare const SUBPROTOCOL: 'tether.v1.json';

/** A point in a channel: an offset means something only together with its epoch. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface Publication<T = unknown> {
  channel: string;
  offset: number;
  epoch: string;
  data: T;
  /** Absent for publications made with the HTTP API. */
  from?: { user: string; client: string };
  /** Server time of storage, ms since the epoch. */
  ts: number;
}

/**
 * Offsets `from`..`to` (inclusive) cannot be delivered. `retention`: they left the server's history;
 * `epoch`: the channel's history was reset (bounds may be absent; reload with `history`);
 * `missing`: the server skipped offsets without announcing it (a server bug, reported rather than hidden).
 */
export interface GapEvent {
  channel: string;
  from?: number;
  to?: number;
  reason: 'retention' | 'epoch' | 'missing';
}

export interface PresenceEvent {
  channel: string;
  client: string;
  user: string;
  info?: Record<string, unknown>;
}

export interface SubscribedEvent {
  channel: string;
  /** False when a gap was reported (see `gap`). */
  recovered: boolean;
  /** The channel's current offset when the server answered. */
  offset: number;
  epoch: string;
  /** True when restored by a session resume rather than by a subscribe command. */
  resumed: boolean;
  /** Publications missed meanwhile that are being delivered now. */
  missed: number;
  gap?: GapEvent;
}

export type State = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface StateEvent {
  state: State;
  previous: State;
}

export interface ConnectedEvent {
  client: string;
  session: string;
  user: string;
  /** The server restored the earlier session (its subscriptions and the publications missed). */
  resumed: boolean;
  /** Publications missed while away that the resumed subscriptions are delivering now. */
  recovered: number;
  /** The resumed subscriptions (empty unless `resumed`). */
  subscriptions: SubscribedEvent[];
}

export interface DisconnectedEvent {
  /** The close code (the server's `disconnect` code when it sent one; 3000 when the client gave up on the socket). */
  code: number;
  reason: string;
  reconnect: boolean;
  /** Milliseconds until the next attempt, when `reconnect`. */
  delay?: number;
}

export interface ClosedEvent {
  code: number;
  reason: string;
}

/** Web Storage (localStorage, sessionStorage) or anything with get/set of strings. */
export type KeyValueStorage =
  | { get(key: string): string | null | undefined; set(key: string, value: string): void }
  | { getItem(key: string): string | null; setItem(key: string, value: string): void };

/** The constructor of a WHATWG-style WebSocket: the browser's, Node 22's, or the "ws" package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => {
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: any }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
};

export interface TetherClientOptions {
  /** JWT sent with every connect. */
  token?: string;
  /** Called before each (re)connect for a fresh token; wins over `token`. */
  getToken?: () => string | Promise<string>;
  /** Client name sent with connect, e.g. 'my-app/1.2'. Default 'tether.js'. */
  name?: string;
  /** Shown to others in presence, e.g. { name: 'Bob' }. */
  info?: Record<string, unknown>;
  /** Default: globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Backoff with full jitter: delay = random(0, min(max, min * 2^attempt)). Defaults 500 and 20000 ms. */
  minReconnectDelay?: number;
  maxReconnectDelay?: number;
  /** Default timeout of publish, history and presence, in ms. Default 30000. */
  publishTimeout?: number;
  /** Longest wait before acknowledging delivered publications, in ms. Default 200. */
  ackInterval?: number;
  /** Time from opening a socket to the connect result, in ms. Default 10000. */
  connectTimeout?: number;
  /** Larger publish data is refused locally with error 108. Default 65536 (the server's default). */
  maxPublicationBytes?: number;
  /**
   * A publish command (data, channel, key and envelope) larger than this is refused locally with
   * error 108, instead of the server closing the connection with 1009. Default 65536 (the server's
   * default max-frame-bytes).
   */
  maxFrameBytes?: number;
  /**
   * Keeps the session and each channel's position, so that a reloaded page or restarted process resumes.
   * One storage (and key) per client: two clients sharing one resume the same session and the server
   * closes the older for good (4502). Prefer sessionStorage, or a storageKey per tab.
   */
  storage?: KeyValueStorage;
  /** Key under which `storage` keeps this client's state. Default 'tether:' + url. */
  storageKey?: string;
  /** Source of 'online'/'offline' events. Default: window in browsers; null turns it off. */
  network?: { addEventListener(type: string, fn: () => void): void; removeEventListener(type: string, fn: () => void): void } | null;
}

export interface SubscribeOptions<T = unknown> {
  /** Deliver everything after this position. Default: the position in `storage`, else live. */
  since?: StreamPosition;
  /** Also receive join/leave of the channel. */
  presence?: boolean;
  /** Each publication exactly once, in offset order. */
  onPublication?(pub: Publication<T>): void;
  onGap?(gap: GapEvent): void;
  onJoin?(event: PresenceEvent): void;
  onLeave?(event: PresenceEvent): void;
  /** After every subscribe result or resume of this subscription (each reconnect). */
  onSubscribed?(event: SubscribedEvent): void;
  /** The server refused the subscription (permission, bad request, limit); it is over. */
  onError?(error: TetherError): void;
}

export declare class TetherError extends Error {
  /** A protocol error code (docs/protocol.md section 11), or 'timeout' / 'closed' from the client. */
  readonly code: number | 'timeout' | 'closed';
  readonly temporary: boolean;
  readonly retryAfter?: number;
  constructor(code: number | 'timeout' | 'closed', message: string, more?: { temporary?: boolean; retryAfter?: number });
}

export declare class Subscription {
  readonly channel: string;
  /** The last publication delivered to the application, or the starting point; null before the first result. */
  readonly position: StreamPosition | null;
  readonly state: 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';
  /** No callback of this subscription runs afterwards. */
  unsubscribe(): void;
}

export interface PublishResult {
  offset: number;
  epoch: string;
  /** The key had been published before (an earlier send of this very call, or another call with the same key). */
  duplicate: boolean;
}

export interface HistoryResult<T = unknown> {
  publications: Publication<T>[];
  /** The channel's current offset. */
  offset: number;
  epoch: string;
  gap?: GapEvent;
}

export interface PresenceResult {
  clients: { client: string; user: string; info?: Record<string, unknown> }[];
}

export declare class TetherClient {
  constructor(url: string, options?: TetherClientOptions);
  readonly state: State;
  readonly session: string | null;
  readonly clientId: string | null;
  readonly user: string | null;

  on(event: 'state', listener: (e: StateEvent) => void): () => void;
  on(event: 'connected', listener: (e: ConnectedEvent) => void): () => void;
  on(event: 'disconnected', listener: (e: DisconnectedEvent) => void): () => void;
  /** Terminal: no event follows. */
  on(event: 'closed', listener: (e: ClosedEvent) => void): () => void;
  on(event: 'error', listener: (e: Error) => void): () => void;
  off(event: string, listener: (e: any) => void): void;

  /** Starts connecting (once). Reconnects by itself until close(), cancel() or a 4500-4999 close. */
  connect(): void;
  subscribe<T = unknown>(channel: string, options?: SubscribeOptions<T>): Subscription;
  subscription(channel: string): Subscription | undefined;
  /** Queued while offline, resent with the same key after reconnects; settles exactly once. */
  publish(channel: string, data: unknown, options?: { key?: string; timeout?: number }): Promise<PublishResult>;
  history<T = unknown>(channel: string, options?: { since?: StreamPosition; limit?: number; timeout?: number }): Promise<HistoryResult<T>>;
  presence(channel: string, options?: { timeout?: number }): Promise<PresenceResult>;
  /** Graceful: close code 1000, the server ends the session. */
  close(): void;
  /** Immediate: the server keeps the session for its session TTL. */
  cancel(): void;
}
