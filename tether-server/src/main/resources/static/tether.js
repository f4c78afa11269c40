// tether.js: the browser (and Node) client of Tether, wire protocol v1 (JSON), docs/protocol.md.
//
// Delivery guarantee: every publication of a subscribed channel reaches onPublication exactly
// once and in offset order, across reconnects, session resumes and page reloads (with `storage`),
// or the subscription's onGap says precisely which offsets cannot be delivered.
//
// Threading: JavaScript is single-threaded; all state below is owned by the event loop and every
// callback runs synchronously from a socket event or a timer. Callbacks may call back into the client.

/** The WebSocket subprotocol this client speaks. */
export const SUBPROTOCOL = 'tether.v1.json';

const DEFAULTS = Object.freeze({
  minReconnectDelay: 500,
  maxReconnectDelay: 20000,
  publishTimeout: 30000,
  ackInterval: 200,
  connectTimeout: 10000,
  maxPublicationBytes: 65536,
  maxFrameBytes: 65536,
});

// Outgoing messages produced together share a frame, up to this many UTF-16 units: at most 3 bytes
// each, so a batch stays under the server's default maxFrameBytes (64 KiB). A larger message goes alone.
const MAX_BATCH_CHARS = 16384;
// A connection that lasts this long counts as established: the reconnect backoff starts over after it.
const STABLE_MS = 10000;
// Code of the closes this client decides on (dead connection, browser offline, cancel). Anything but
// 1000 keeps the session on the server for a resume; browsers allow only 1000 and 3000-4999.
const CLIENT_ABORT_CODE = 3000;
const NORMAL_CLOSE = 1000;
const OPEN = 1;
const ERR_ALREADY_SUBSCRIBED = 110;
const ERR_TOO_LARGE = 108;
const ERR_TOKEN_EXPIRED = 112;

/**
 * @typedef {{offset: number, epoch: string}} StreamPosition
 * @typedef {{channel: string, offset: number, epoch: string, data: any, from?: {user: string, client: string}, ts: number}} Publication
 * @typedef {{channel: string, from?: number, to?: number, reason: 'retention' | 'epoch' | 'missing'}} GapEvent
 * @typedef {{channel: string, client: string, user: string}} PresenceEvent
 * @typedef {{channel: string, recovered: boolean, offset: number, epoch: string, resumed: boolean, missed: number, gap?: GapEvent}} SubscribedEvent
 * @typedef {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed'} State
 * @typedef {{get(key: string): (string | null | undefined), set(key: string, value: string): void}} KeyValueStorage
 *
 * @typedef {object} TetherClientOptions
 * @property {string} [token] JWT sent with every connect
 * @property {() => (string | Promise<string>)} [getToken] called before each (re)connect; wins over token
 * @property {string} [name] client name sent with connect (default 'tether.js')
 * @property {object} [info] shown to others in presence, e.g. {name: 'Bob'}
 * @property {new (url: string, protocols?: string) => any} [WebSocket] WebSocket constructor (default globalThis.WebSocket)
 * @property {number} [minReconnectDelay] ms, default 500
 * @property {number} [maxReconnectDelay] ms, default 20000
 * @property {number} [publishTimeout] ms, default 30000; keep it below the server's dedupWindow (5 min),
 *     the time within which a resend with the same key cannot store a publication twice
 * @property {number} [ackInterval] ms, default 200
 * @property {number} [connectTimeout] ms from opening a socket to the connect result, default 10000
 * @property {number} [maxPublicationBytes] larger publish data is refused locally (108), default 65536
 * @property {number} [maxFrameBytes] a publish command larger than this (the server's max-frame-bytes) is
 *   refused locally (108) instead of making the server close the connection with 1009; default 65536
 * @property {KeyValueStorage | Storage} [storage] keeps session and positions across reloads
 * @property {string} [storageKey] default 'tether:' + url
 * @property {EventTarget | null} [network] source of 'online'/'offline' (default window in browsers; null: off)
 *
 * @typedef {object} SubscribeOptions
 * @property {StreamPosition} [since] deliver everything after this; default: the stored position, else live
 * @property {boolean} [presence] also receive join/leave
 * @property {(pub: Publication) => void} [onPublication] each publication exactly once, in offset order
 * @property {(gap: GapEvent) => void} [onGap]
 * @property {(e: PresenceEvent) => void} [onJoin]
 * @property {(e: PresenceEvent) => void} [onLeave]
 * @property {(e: SubscribedEvent) => void} [onSubscribed] after each subscribe result or resume
 * @property {(err: TetherError) => void} [onError] the server refused the subscription; it is over
 */

/** An error from the server (numeric protocol code) or from the client ('timeout', 'closed'). */
export class TetherError extends Error {
  /**
   * @param {number | 'timeout' | 'closed'} code
   * @param {string} message
   * @param {{temporary?: boolean, retryAfter?: number}} [more]
   */
  constructor(code, message, more = {}) {
    super(message);
    this.name = 'TetherError';
    this.code = code;
    this.temporary = Boolean(more.temporary);
    if (more.retryAfter != null) this.retryAfter = more.retryAfter;
  }
}

/** A subscription handle, returned by {@link TetherClient#subscribe}. */
export class Subscription {
  #entry;
  #unsubscribe;

  /** @param {any} entry the client's record of this subscription  @param {() => void} unsubscribe */
  constructor(entry, unsubscribe) {
    this.#entry = entry;
    this.#unsubscribe = unsubscribe;
  }

  /** @returns {string} */
  get channel() { return this.#entry.channel; }

  /** Offset and epoch of the last publication delivered to the application (or of the start point). @returns {StreamPosition | null} */
  get position() { const p = this.#entry.position; return p ? {offset: p.offset, epoch: p.epoch} : null; }

  /** @returns {'subscribing' | 'subscribed' | 'unsubscribed' | 'failed'} */
  get state() { return this.#entry.state; }

  /** Stops the subscription; no callback of it runs afterwards. */
  unsubscribe() { this.#unsubscribe(); }
}

/**
 * A connection to a Tether server that reconnects, resumes and recovers by itself.
 * Events: 'state', 'connected', 'disconnected', 'closed' (terminal: no event after it), 'error'.
 */
export class TetherClient {
  #url;
  #opts;
  #WebSocket;
  #storage;
  #storageKey;
  #network;
  #listeners = new Map();

  /** @type {State} */
  #state = 'idle';
  #ws = null;                 // the current socket, or null between attempts
  #opening = false;           // awaiting getToken() for the next socket
  #connected = false;         // the connect result arrived on #ws
  #session = null;            // resume token, kept across sockets
  #clientId = null;
  #user = null;
  #pingMs = 25000;
  #pongMs = 10000;
  #window = 1024;
  #nextId = 1;
  #replies = new Map();       // command id -> reply handler; commands sent on #ws only
  #subs = new Map();          // channel -> subscription entry
  #savedPositions = {};       // channel -> position loaded from storage, until subscribed or unsubscribed
  #reliable = new Set();      // publish/history/presence awaiting a reply, in call order; resent after reconnect
  #outbox = [];
  #batchDepth = 0;
  #attempt = 0;               // reconnect attempts since the last connection that lasted STABLE_MS
  #stableTimer = null;        // resets #attempt once the current connection has lasted STABLE_MS
  #reconnectTimer = null;     // at most one reconnect pending: checked by #scheduleReconnect
  #connectTimer = null;
  #silenceTimer = null;
  #ackTimer = null;
  #lastReceived = 0;
  #deliveredInFrame = false;  // a publication was delivered while handling the current frame
  #disconnectPush = null;     // the server's 'disconnect' push on #ws, read when it closes
  #tokenExpired = false;      // connect on #ws failed with 112 and getToken can refresh it
  #onOnline = null;
  #onOffline = null;
  #retryTimers = new Set();   // retries of refused subscribes and requests: cleared when the client closes
  #tokenTimer = null;         // getToken's deadline
  #serverDelay = false;       // the pending reconnect waits for the server's retryAfter
  #unsubscribedAway = new Set();  // channels unsubscribed while not connected: a resume must not revive them

  /**
   * @param {string} url ws:// or wss:// URL of the endpoint, e.g. ws://localhost:8080/ws
   * @param {TetherClientOptions} [options]
   */
  constructor(url, options = {}) {
    this.#url = url;
    this.#opts = mergeOptions(options);
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== 'function') {
      throw new TypeError('no WebSocket implementation: pass options.WebSocket (for example the "ws" package in Node)');
    }
    this.#storage = storageAdapter(options.storage);
    this.#storageKey = options.storageKey ?? `tether:${url}`;
    this.#network = options.network !== undefined ? options.network : globalThis.window;
    const saved = this.#load();
    this.#session = typeof saved.session === 'string' ? saved.session : null;
    this.#savedPositions = saved.positions && typeof saved.positions === 'object' ? saved.positions : {};
  }

  /** @returns {State} */
  get state() { return this.#state; }
  /** The session token (resume token) of the last connect, or null. */
  get session() { return this.#session; }
  /** This client's id on the server (kept across resumes), or null before the first connect. */
  get clientId() { return this.#clientId; }
  /** The user the server authenticated ('' when anonymous), or null before the first connect. */
  get user() { return this.#user; }

  /**
   * Adds a listener; returns a function that removes it.
   * @param {'state' | 'connected' | 'disconnected' | 'closed' | 'error'} event
   * @param {(payload: any) => void} listener
   */
  on(event, listener) {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Removes a listener added with {@link on}. */
  off(event, listener) { this.#listeners.get(event)?.delete(listener); }

  /** Starts connecting; does nothing unless the client is new. */
  connect() {
    if (this.#state !== 'idle') return;
    this.#watchNetwork();
    this.#setState('connecting');
    this.#open();
  }

  /**
   * Subscribes to a channel. Without `since`, starts from the position kept in `storage` if any,
   * else live. Works in any state but 'closed': the subscribe is sent when connected.
   * @param {string} channel
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(channel, options = {}) {
    if (this.#state === 'closed') throw new TetherError('closed', 'client is closed');
    if (this.#subs.has(channel)) throw new TetherError(ERR_ALREADY_SUBSCRIBED, `already subscribed to ${channel}`);
    const since = options.since ?? this.#savedPositions[channel] ?? null;
    const entry = {
      channel,
      handlers: options,
      presence: Boolean(options.presence),
      position: since ? {offset: since.offset, epoch: since.epoch} : null,
      state: 'subscribing',
      live: false,   // the server has it on #ws: its pubs are delivered
      acked: 0,      // last offset acknowledged on #ws
      sub: null,
    };
    entry.sub = new Subscription(entry, () => this.#unsubscribe(entry));
    this.#subs.set(channel, entry);
    delete this.#savedPositions[channel];
    if (this.#connected) this.#sendSubscribe(entry);
    return entry.sub;
  }

  /** The active subscription of a channel, or undefined. @returns {Subscription | undefined} */
  subscription(channel) { return this.#subs.get(channel)?.sub; }

  /**
   * Publishes reliably: queued while offline, resent with the same key after a reconnect until the
   * server acknowledges it or `timeout` passes. Settles exactly once.
   * @param {string} channel
   * @param {any} data any JSON value
   * @param {{key?: string, timeout?: number}} [options] key: default a fresh random one per call
   * @returns {Promise<{offset: number, epoch: string, duplicate: boolean}>}
   */
  publish(channel, data, options = {}) {
    const key = options.key ?? newKey();
    let json;
    try {
      json = JSON.stringify(data);  // now: what is published is the data as it is at this call
    } catch (err) {
      return Promise.reject(err);  // a BigInt, a cycle
    }
    const cmd = {op: 'publish', channel, data: json === undefined ? undefined : JSON.parse(json), key};
    if (utf8Length(json ?? '') > this.#opts.maxPublicationBytes) {
      return Promise.reject(new TetherError(ERR_TOO_LARGE, `data is larger than ${this.#opts.maxPublicationBytes} bytes`));
    }
    // The whole command must fit a frame: the server closes a connection sending a larger one (1009),
    // and a resend after the reconnect would do the same again until the publish timed out.
    const line = utf8Length(JSON.stringify({id: Number.MAX_SAFE_INTEGER, ...cmd}));
    if (line > this.#opts.maxFrameBytes) {
      return Promise.reject(new TetherError(ERR_TOO_LARGE,
        `the publish command is ${line} bytes, more than maxFrameBytes (${this.#opts.maxFrameBytes})`));
    }
    return this.#request(cmd, options.timeout ?? this.#opts.publishTimeout,
      (r) => ({offset: r.offset, epoch: r.epoch, duplicate: Boolean(r.duplicate)}));
  }

  /**
   * The channel's history: the latest `limit` publications, or those after `since`.
   * @param {string} channel
   * @param {{since?: StreamPosition, limit?: number, timeout?: number}} [options]
   * @returns {Promise<{publications: Publication[], offset: number, epoch: string, gap?: GapEvent}>}
   */
  history(channel, options = {}) {
    const cmd = {op: 'history', channel};
    if (options.since) cmd.since = {offset: options.since.offset, epoch: options.since.epoch};
    if (options.limit != null) cmd.limit = options.limit;
    return this.#request(cmd, options.timeout ?? this.#opts.publishTimeout, (r) => ({
      ...r,
      publications: (r.publications ?? []).map((p) => ({...p, channel, epoch: r.epoch})),
      ...(r.gap ? {gap: {channel, ...r.gap}} : {}),
    }));
  }

  /** Who is subscribed to the channel. @returns {Promise<{clients: {client: string, user: string, info?: any}[]}>} */
  presence(channel, options = {}) {
    return this.#request({op: 'presence', channel}, options.timeout ?? this.#opts.publishTimeout, (r) => r);
  }

  /** Graceful close: close code 1000, the server ends the session. Terminal. */
  close() {
    if (this.#state === 'closed') return;
    const hadSocket = this.#dropSocket(NORMAL_CLOSE, 'client closed', true);
    this.#session = null;
    this.#save();
    this.#terminate(NORMAL_CLOSE, 'client closed', hadSocket);
  }

  /** Immediate close: nothing more is sent; the server keeps the session for `sessionTtl`. Terminal. */
  cancel() {
    if (this.#state === 'closed') return;
    const hadSocket = this.#dropSocket(CLIENT_ABORT_CODE, 'cancelled', false);
    this.#save();
    this.#terminate(CLIENT_ABORT_CODE, 'cancelled', hadSocket);
  }

  // --- connection lifecycle --------------------------------------------------------------------

  #open() {
    const {token, getToken} = this.#opts;
    if (!getToken) {
      this.#openSocket(token);
      return;
    }
    this.#opening = true;
    // Bounded like the connect itself: a getToken that never settles must not leave the client
    // reconnecting for ever.
    const limit = this.#opts.connectTimeout;
    const deadline = new Promise((_, reject) => {
      this.#tokenTimer = setTimeout(() => reject(new Error(`no answer within connectTimeout (${limit} ms)`)), limit);
    });
    Promise.race([Promise.resolve().then(getToken), deadline]).then(
      (fresh) => {
        this.#tokenDone();
        if (this.#state !== 'closed') this.#openSocket(fresh);
      },
      (err) => {
        this.#tokenDone();
        if (this.#state === 'closed') return;
        this.#emitError(err);
        this.#afterLoss(CLIENT_ABORT_CODE, `getToken failed: ${err?.message ?? err}`);
      });
  }

  #tokenDone() {
    this.#opening = false;
    clearTimeout(this.#tokenTimer);
    this.#tokenTimer = null;
  }

  #openSocket(token) {
    let ws;
    try {
      ws = new this.#WebSocket(this.#url, SUBPROTOCOL);
    } catch (err) {
      this.#emitError(err);
      this.#afterLoss(1006, String(err?.message ?? err));
      return;
    }
    this.#ws = ws;
    this.#disconnectPush = null;
    ws.onopen = () => { if (ws === this.#ws) this.#sendConnect(token); };
    ws.onmessage = (event) => { if (ws === this.#ws) this.#onFrame(event.data); };
    ws.onclose = (event) => { if (ws === this.#ws) this.#onSocketClosed(event.code, event.reason); };
    ws.onerror = () => { /* a close event follows */ };
    this.#connectTimer = setTimeout(() => this.#abort('no connect result in time'), this.#opts.connectTimeout);
  }

  #sendConnect(token) {
    const cmd = {op: 'connect', name: this.#opts.name ?? 'tether.js'};
    if (token) cmd.token = token;
    if (this.#session) cmd.session = this.#session;
    if (this.#opts.info) cmd.info = this.#opts.info;
    this.#lastReceived = Date.now();
    this.#command(cmd, (reply) => {
      if (reply.error) {
        const e = reply.error;
        this.#emitError(new TetherError(e.code, `connect: ${e.message}`, e));
        if (e.temporary) {
          this.#abort(`connect failed: ${e.message}`);
          return;
        }
        // Not worth retrying. A refused token is followed by the server's disconnect 4501 and close,
        // which replace this; if the server does not close, the connect timer ends it as this says.
        this.#disconnectPush ??= {code: e.code === 103 || e.code === 112 ? 4501 : 4500, reason: e.message, reconnect: false};
        // An expired token is worth one more try when getToken can give a fresh one.
        this.#tokenExpired = e.code === ERR_TOKEN_EXPIRED && typeof this.#opts.getToken === 'function';
        // Decided now: waiting for the server's close could let a later push (its connect timeout,
        // 4004, says reconnect) turn a refusal into a loop of identical connects.
        this.#abort(`connect failed: ${e.message}`);
        return;
      }
      this.#onConnected(reply.result);
    });
  }

  #onConnected(r) {
    clearTimeout(this.#connectTimer);
    this.#connected = true;
    // The backoff starts over only once this connection has lasted: a server that accepts and then
    // closes at once would otherwise get reconnects within minReconnectDelay for ever.
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => { this.#attempt = 0; }, STABLE_MS);
    this.#session = r.session;
    this.#clientId = r.client;
    this.#user = r.user ?? '';
    this.#pingMs = r.ping ?? this.#pingMs;
    this.#pongMs = r.pong ?? this.#pongMs;
    this.#window = r.window ?? this.#window;
    this.#armSilenceTimer();
    const ws = this.#ws;
    const results = [];
    if (r.resumed) {
      for (const s of r.subscriptions ?? []) {
        const entry = this.#subs.get(s.channel);
        if (entry && !this.#unsubscribedAway.has(s.channel)) results.push([entry, this.#applyResult(entry, s, true)]);
        // Unsubscribed while away. A subscription made again since then has its own since and presence:
        // it is sent fresh below, after this unsubscribe, rather than taking the old one's place.
        else this.#command({op: 'unsubscribe', channel: s.channel}, () => {});
      }
    }
    this.#unsubscribedAway.clear();
    for (const entry of this.#subs.values()) {
      if (!entry.live) this.#sendSubscribe(entry);
    }
    for (const req of this.#reliable) {
      if (!req.waiting) this.#sendRequest(req);  // one waiting out a retryAfter goes when that ends
    }
    this.#save();
    this.#setState('connected');
    if (ws !== this.#ws) return;  // a state listener closed the client
    const recovered = results.reduce((n, [, info]) => n + info.missed, 0);
    this.#emit('connected', {
      client: r.client, session: r.session, user: this.#user, resumed: Boolean(r.resumed), recovered,
      subscriptions: results.map(([, info]) => info),
    });
    for (const [entry, info] of results) {
      if (ws !== this.#ws) return;
      this.#announce(entry, info);
    }
  }

  #onSocketClosed(code, reason) {
    const push = this.#disconnectPush;
    this.#detach();
    this.#afterLoss(push?.code ?? code, push?.reason ?? reason ?? '', push);
  }

  /** Drops #ws on the client's initiative (dead, timed out, offline) and reconnects. */
  #abort(reason) {
    const push = this.#disconnectPush;
    this.#dropSocket(CLIENT_ABORT_CODE, reason, false);
    this.#afterLoss(push?.code ?? CLIENT_ABORT_CODE, push?.reason ?? reason, push);
  }

  /** Closes #ws if any, after flushing the outbox if asked; returns whether there was one. */
  #dropSocket(code, reason, flush) {
    const ws = this.#ws;
    if (!ws) return false;
    if (flush) this.#flush();
    this.#detach();
    try {
      if (code !== NORMAL_CLOSE && typeof ws.terminate === 'function') ws.terminate();  // Node "ws": no close handshake
      else ws.close(code, closeReason(reason));
    } catch { /* already closing */ }
    return true;
  }

  /** Forgets #ws and everything bound to it. */
  #detach() {
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Not null: Node's "ws" emits 'error' when a socket still connecting is closed, and an 'error'
      // event without a listener throws and ends the process.
      ws.onerror = () => {};
    }
    this.#ws = null;
    this.#connected = false;
    this.#replies.clear();
    this.#outbox = [];
    for (const entry of this.#subs.values()) entry.live = false;
    for (const req of this.#reliable) req.sent = false;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#silenceTimer);
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#stableTimer);
    this.#ackTimer = null;
  }

  #afterLoss(code, reason, push = null) {
    const refresh = this.#tokenExpired;
    this.#tokenExpired = false;
    const reconnect = refresh || (push ? push.reconnect !== false && !isTerminalCode(code) : !isTerminalCode(code));
    if (!reconnect) {
      this.#session = null;  // ended (or taken over) on the server: a reload must not resume it
      this.#save();
      this.#terminate(code, reason, true);
      return;
    }
    const delay = this.#scheduleReconnect(code, push?.retryAfter);
    this.#emit('disconnected', {code, reason, reconnect: true, delay});
    if (this.#state !== 'closed') this.#setState(this.#state === 'connecting' ? 'connecting' : 'reconnecting');
  }

  /** Schedules the next attempt unless one is pending; returns its delay (ms). */
  #scheduleReconnect(code, retryAfter) {
    if (this.#reconnectTimer !== null || this.#ws !== null || this.#opening) return 0;
    // The server's advice replaces the first delay; an overloaded server (4003) gets the longer one.
    let delay = this.#backoff(code);
    this.#serverDelay = retryAfter != null && retryAfter >= 0;
    if (this.#serverDelay) delay = code === 4003 ? Math.max(retryAfter, delay) : retryAfter;
    this.#attempt++;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#state !== 'closed') this.#open();
    }, delay);
    return delay;
  }

  /** Full jitter: random(0, min(max, min * 2^attempt)); an overloaded server (4003) gets the whole range. */
  #backoff(code) {
    const {minReconnectDelay: min, maxReconnectDelay: max} = this.#opts;
    const cap = code === 4003 ? max : Math.min(max, min * 2 ** this.#attempt);
    return Math.floor(Math.random() * cap);
  }

  #terminate(code, reason, emitDisconnected) {
    this.#detach();
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    clearTimeout(this.#tokenTimer);
    this.#unwatchNetwork();
    const err = new TetherError('closed', `client closed (${code} ${reason})`);
    for (const req of this.#reliable) this.#settle(req, null, err);
    for (const entry of this.#subs.values()) entry.state = 'unsubscribed';
    if (emitDisconnected) this.#emit('disconnected', {code, reason, reconnect: false});
    this.#setState('closed');
    this.#emit('closed', {code, reason});
    this.#listeners.clear();
  }

  // Silence for ping+pong ms means the connection is dead, whether or not the socket noticed.
  #armSilenceTimer() {
    const limit = this.#pingMs + this.#pongMs;
    const idle = Date.now() - this.#lastReceived;
    this.#silenceTimer = setTimeout(() => {
      if (Date.now() - this.#lastReceived >= limit) this.#abort(`nothing received for ${limit} ms`);
      else this.#armSilenceTimer();
    }, Math.max(0, limit - idle));
  }

  // In browsers, 'offline' means the socket is dead and 'online' that trying now may succeed.
  #watchNetwork() {
    const net = this.#network;
    if (!net || typeof net.addEventListener !== 'function') return;
    this.#onOffline = () => { if (this.#ws) this.#abort('network offline'); };
    // Back online: try soon rather than after a long backoff, but spread (every client on a network
    // that comes back hears 'online' at once) and never before a delay the server asked for.
    this.#onOnline = () => {
      if (this.#reconnectTimer === null || this.#serverDelay) return;
      clearTimeout(this.#reconnectTimer);
      this.#attempt = 0;
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = null;
        if (this.#state !== 'closed') this.#open();
      }, Math.floor(Math.random() * this.#opts.minReconnectDelay));
    };
    net.addEventListener('offline', this.#onOffline);
    net.addEventListener('online', this.#onOnline);
  }

  #unwatchNetwork() {
    if (!this.#onOnline) return;
    this.#network.removeEventListener('offline', this.#onOffline);
    this.#network.removeEventListener('online', this.#onOnline);
    this.#onOnline = this.#onOffline = null;
  }

  // --- incoming --------------------------------------------------------------------------------

  #onFrame(data) {
    this.#lastReceived = Date.now();
    if (typeof data !== 'string') {
      this.#emitError(new TetherError(101, 'binary frame received; the protocol uses text frames'));
      return;
    }
    const ws = this.#ws;
    this.#deliveredInFrame = false;
    this.#batch(() => {
      for (const line of data.split('\n')) {
        if (ws !== this.#ws) return;  // a callback closed the client
        if (line.trim() === '') continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          this.#emitError(new TetherError(101, `unparsable message from server: ${line.slice(0, 100)}`));
          continue;
        }
        this.#onMessage(msg);
      }
    });
    // Once per frame rather than per publication: a reload then never redelivers what the app has seen.
    if (this.#deliveredInFrame && this.#storage) this.#save();
  }

  #onMessage(m) {
    if (m.id != null && m.op === undefined) {
      const handler = this.#replies.get(m.id);
      this.#replies.delete(m.id);
      handler?.(m);
      return;
    }
    switch (m.op) {
      case 'ping': this.#send({op: 'pong'}); break;
      case 'pub': this.#onPub(m); break;
      case 'join': this.#onPresence(m, 'onJoin'); break;
      case 'leave': this.#onPresence(m, 'onLeave'); break;
      case 'disconnect': this.#disconnectPush = m; break;
      case 'error': this.#emitError(new TetherError(m.code, m.message)); break;
      default: break;  // a newer server's push
    }
  }

  #onPub(m) {
    const entry = this.#subs.get(m.channel);
    if (!entry || !entry.live) return;  // before its subscribe result, or after unsubscribe
    const pos = entry.position;
    if (m.offset <= pos.offset) return;  // delivered already (replay after a resume)
    if (m.offset > pos.offset + 1) {
      // The server promises no hole it does not announce; say so rather than hide it.
      this.#call(entry, 'onGap', {channel: entry.channel, from: pos.offset + 1, to: m.offset - 1, reason: 'missing'});
    }
    entry.position = {offset: m.offset, epoch: pos.epoch};
    const pub = {channel: m.channel, offset: m.offset, epoch: pos.epoch, data: m.data, ts: m.ts};
    if (m.from) pub.from = m.from;
    this.#deliveredInFrame = true;
    this.#call(entry, 'onPublication', pub);
    if (entry.live && entry.position.offset - entry.acked >= Math.max(1, Math.floor(this.#window / 2))) {
      this.#sendAck(entry);
    } else if (entry.live && this.#ackTimer === null) {
      this.#ackTimer = setTimeout(() => this.#flushAcks(), this.#opts.ackInterval);
    }
  }

  #onPresence(m, callback) {
    const entry = this.#subs.get(m.channel);
    if (!entry?.live) return;
    const event = {channel: m.channel, client: m.client, user: m.user};
    if (m.info !== undefined) event.info = m.info;
    this.#call(entry, callback, event);
  }

  // --- subscriptions ---------------------------------------------------------------------------

  #sendSubscribe(entry) {
    const cmd = {op: 'subscribe', channel: entry.channel};
    if (entry.position) cmd.since = {offset: entry.position.offset, epoch: entry.position.epoch};
    if (entry.presence) cmd.presence = true;
    // Protocol E: an ack in the same frame, read by the server right after the subscribe and before
    // anything it writes could be lost. Without it, a drop before the result's own ack reaches the
    // server makes it count everything it wrote as delivered, and a resume would skip that.
    this.#batch(() => {
      this.#subscribeCommand(entry, cmd);
      this.#send({op: 'ack', channel: entry.channel, offset: entry.position ? entry.position.offset : 0});
    });
  }

  #subscribeCommand(entry, cmd) {
    this.#command(cmd, (reply) => {
      if (this.#subs.get(entry.channel) !== entry) return;  // unsubscribed meanwhile
      if (reply.result) {
        this.#announce(entry, this.#applyResult(entry, reply.result, false));
        this.#save();
        return;
      }
      const e = reply.error;
      if (e.code === ERR_ALREADY_SUBSCRIBED) {
        // The server has it from an earlier attempt, at a position we cannot see: start over from ours.
        this.#command({op: 'unsubscribe', channel: entry.channel}, () => {});
        this.#sendSubscribe(entry);
      } else if (e.temporary) {
        const ws = this.#ws;
        this.#later(() => {
          if (ws === this.#ws && this.#connected && this.#subs.get(entry.channel) === entry) this.#sendSubscribe(entry);
        }, e.retryAfter ?? this.#opts.minReconnectDelay);
      } else {
        this.#subs.delete(entry.channel);
        entry.state = 'failed';
        const err = new TetherError(e.code, `subscribe ${entry.channel}: ${e.message}`, e);
        if (entry.handlers.onError) this.#call(entry, 'onError', err);
        else this.#emitError(err);
      }
    });
  }

  /** Takes a subscribe (or resumed) result: where delivery continues, what is missing, what is coming. */
  #applyResult(entry, r, resumed) {
    const pos = entry.position;
    const info = {channel: entry.channel, recovered: true, offset: r.offset, epoch: r.epoch, resumed, missed: 0};
    if (pos && pos.epoch === r.epoch && r.gap?.reason !== 'epoch') {
      if (r.gap) {
        // The server counts from its last ack, which may be behind what was delivered here.
        const from = Math.max(r.gap.from, pos.offset + 1);
        if (from <= r.gap.to) info.gap = {channel: entry.channel, from, to: r.gap.to, reason: r.gap.reason};
        entry.position = {offset: Math.max(pos.offset, r.gap.to), epoch: r.epoch};
      }
      info.missed = Math.max(0, r.offset - entry.position.offset);
    } else {
      if (pos) {
        const gap = {channel: entry.channel, reason: 'epoch'};
        if (r.gap?.from != null) Object.assign(gap, {from: r.gap.from, to: r.gap.to});
        info.gap = gap;
      }
      entry.position = {offset: r.offset, epoch: r.epoch};  // live from the current offset
    }
    info.recovered = !info.gap;
    entry.live = true;
    entry.state = 'subscribed';
    this.#sendAck(entry);  // protocol E: from now on a resume replays from our last ack
    return info;
  }

  #announce(entry, info) {
    if (this.#subs.get(entry.channel) !== entry) return;  // unsubscribed by an earlier callback
    if (info.gap) this.#call(entry, 'onGap', info.gap);
    if (this.#subs.get(entry.channel) === entry) this.#call(entry, 'onSubscribed', info);
  }

  #unsubscribe(entry) {
    if (this.#subs.get(entry.channel) !== entry) return;
    this.#subs.delete(entry.channel);
    entry.state = 'unsubscribed';
    entry.live = false;
    if (this.#connected) this.#command({op: 'unsubscribe', channel: entry.channel}, () => {});
    else this.#unsubscribedAway.add(entry.channel);
    this.#save();
  }

  #sendAck(entry) {
    entry.acked = entry.position.offset;
    this.#send({op: 'ack', channel: entry.channel, offset: entry.acked});
  }

  #flushAcks() {
    this.#ackTimer = null;
    this.#batch(() => {
      for (const entry of this.#subs.values()) {
        if (entry.live && entry.position.offset > entry.acked) this.#sendAck(entry);
      }
    });
    this.#save();
  }

  /** Calls an application callback of a subscription; its exceptions go to the 'error' event. */
  #call(entry, name, arg) {
    const fn = entry.handlers[name];
    if (typeof fn !== 'function') return;
    try {
      fn.call(entry.handlers, arg);
    } catch (err) {
      this.#emitError(err);
    }
  }

  // --- commands --------------------------------------------------------------------------------

  #command(cmd, onReply) {
    const id = this.#nextId++;
    this.#replies.set(id, onReply);
    this.#send({id, ...cmd});
  }

  /** A command that survives reconnects: resent (same key for publishes) until answered or timed out. */
  #request(cmd, timeout, mapResult) {
    if (this.#state === 'closed') return Promise.reject(new TetherError('closed', 'client is closed'));
    return new Promise((resolve, reject) => {
      const req = {cmd, mapResult, resolve, reject, sent: false, settled: false, timer: null, waiting: false};
      req.timer = setTimeout(() => this.#settle(req, null,
        new TetherError('timeout', `${cmd.op} ${cmd.channel}: no reply within ${timeout} ms`)), timeout);
      this.#reliable.add(req);
      if (this.#connected) this.#sendRequest(req);
    });
  }

  #sendRequest(req) {
    if (req.sent || req.settled) return;
    req.sent = true;
    this.#command(req.cmd, (reply) => {
      if (reply.result) {
        this.#settle(req, req.mapResult(reply.result), null);
        return;
      }
      const e = reply.error;
      if (!e.temporary) {
        this.#settle(req, null, new TetherError(e.code, `${req.cmd.op} ${req.cmd.channel}: ${e.message}`, e));
        return;
      }
      req.sent = false;
      // Not before retryAfter (protocol G2), also on a connection made meanwhile (see #onConnected).
      req.waiting = true;
      this.#later(() => {
        req.waiting = false;
        if (this.#connected) this.#sendRequest(req);
      }, e.retryAfter ?? this.#opts.minReconnectDelay);
    });
  }

  /** A retry after `delay` ms, forgotten (and its timer cleared) when the client closes. */
  #later(fn, delay) {
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      fn();
    }, delay);
    this.#retryTimers.add(timer);
  }

  #settle(req, value, err) {
    if (req.settled) return;
    req.settled = true;
    clearTimeout(req.timer);
    this.#reliable.delete(req);
    if (err) req.reject(err);
    else req.resolve(value);
  }

  // --- outgoing --------------------------------------------------------------------------------

  #send(msg) {
    if (!this.#ws) return;
    this.#outbox.push(JSON.stringify(msg));
    if (this.#batchDepth === 0) this.#flush();
  }

  /** Runs fn with outgoing messages held back, then sends them in as few frames as fit. */
  #batch(fn) {
    this.#batchDepth++;
    try {
      fn();
    } finally {
      if (--this.#batchDepth === 0) this.#flush();
    }
  }

  #flush() {
    const ws = this.#ws;
    const lines = this.#outbox;
    this.#outbox = [];
    if (!ws || lines.length === 0 || ws.readyState !== OPEN) return;
    let frame = '';
    try {
      for (const line of lines) {
        if (frame && frame.length + 1 + line.length > MAX_BATCH_CHARS) {
          ws.send(frame);
          frame = line;
        } else {
          frame = frame ? `${frame}\n${line}` : line;
        }
      }
      if (frame) ws.send(frame);
    } catch (err) {
      this.#emitError(err);
      if (ws === this.#ws) this.#abort('send failed');
    }
  }

  // --- events and storage ----------------------------------------------------------------------

  #setState(state) {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emit('state', {state, previous});
  }

  #emit(event, payload) {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        if (event === 'error') report(err);
        else this.#emitError(err);
      }
    }
  }

  #emitError(err) {
    if (this.#listeners.get('error')?.size) this.#emit('error', err);
    else report(err);
  }

  #load() {
    if (!this.#storage) return {};
    try {
      return JSON.parse(this.#storage.get(this.#storageKey) ?? '{}') ?? {};
    } catch {
      return {};
    }
  }

  #save() {
    if (!this.#storage) return;
    const positions = {...this.#savedPositions};
    for (const entry of this.#subs.values()) {
      if (entry.position) positions[entry.channel] = entry.position;
    }
    try {
      this.#storage.set(this.#storageKey, JSON.stringify({session: this.#session, positions}));
    } catch (err) {
      this.#emitError(err);  // quota, private mode: delivery goes on, only reload-resume is lost
    }
  }
}

/** The defaults with every option the caller gave a value (an option set to undefined keeps its default). */
function mergeOptions(options) {
  const opts = {...DEFAULTS};
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) opts[name] = value;
  }
  for (const name of Object.keys(DEFAULTS)) {
    const v = opts[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`option ${name} must be a finite number >= 0, got ${v}`);
    }
  }
  return opts;
}

/** A close reason browsers accept: at most 123 bytes of UTF-8 (RFC 6455 5.5), cut at a character. */
function closeReason(reason) {
  let r = String(reason ?? '');
  while (utf8Length(r) > 123) r = r.slice(0, -1);
  return r;
}

/** 4500-4999: the server says do not reconnect. */
function isTerminalCode(code) {
  return code >= 4500 && code <= 4999;
}

/** Accepts Web Storage (localStorage, sessionStorage) or any {get, set}. */
function storageAdapter(s) {
  if (!s) return null;
  if (typeof s.getItem === 'function') return {get: (k) => s.getItem(k), set: (k, v) => s.setItem(k, v)};
  return s;
}

function newKey() {
  const bytes = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return 'k-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const encoder = new TextEncoder();
function utf8Length(s) {
  return encoder.encode(s).length;
}

function report(err) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
  else console.error(err);
}
