// A scripted stand-in for a Tether server: hands the client FakeWebSocket instances that the test
// opens, feeds and closes, and records every frame the client sends.

export class FakeServer {
  /** Every socket the client created, oldest first. */
  sockets = [];

  constructor() {
    const server = this;
    this.WebSocket = class FakeWebSocket {
      static CONNECTING = 0;
      static OPEN = 1;
      static CLOSING = 2;
      static CLOSED = 3;

      constructor(url, protocols) {
        this.url = url;
        this.protocols = protocols;
        this.readyState = 0;
        this.frames = [];        // raw frames the client sent
        this.closedWith = null;  // {code, reason} when the client closed it
        this.onopen = this.onmessage = this.onclose = this.onerror = null;
        this.read = 0;           // messages already returned by take()
        server.sockets.push(this);
      }

      send(data) {
        if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
        if (typeof data !== 'string') throw new Error('the client must send text frames');
        this.frames.push(data);
      }

      close(code, reason) {
        this.closedWith = {code, reason};
        this.readyState = 3;
      }

      // --- driven by the test ---

      open() {
        this.readyState = 1;
        this.onopen?.({});
      }

      /** Delivers one frame holding the given messages, one per line. */
      receive(...messages) {
        this.receiveRaw(messages.map((m) => JSON.stringify(m)).join('\n'));
      }

      receiveRaw(text) {
        this.onmessage?.({data: text});
      }

      /** The server (or the network) closes the connection. */
      drop(code = 1006, reason = '') {
        this.readyState = 3;
        this.onclose?.({code, reason, wasClean: code !== 1006});
      }

      /** Every message the client sent, parsed, frames split on '\n'. */
      messages() {
        return this.frames.flatMap((f) => f.split('\n')).map((line) => JSON.parse(line));
      }

      /** Messages sent since the last take(). */
      take() {
        const all = this.messages();
        const fresh = all.slice(this.read);
        this.read = all.length;
        return fresh;
      }

      /** The last command with this op, or undefined. */
      last(op) {
        return this.messages().filter((m) => m.op === op).at(-1);
      }

      get isClosed() {
        return this.readyState === 3;
      }
    };
  }

  get latest() {
    return this.sockets.at(-1);
  }
}

/** A connect result as the server sends it, with short heartbeat timings unless overridden. */
export function connectResult(id, overrides = {}) {
  return {
    id,
    result: {
      client: 'c-1', session: 's-1', user: '', resumed: false,
      ping: 25000, pong: 10000, window: 1024, node: 'n1', version: '1.0.0',
      ...overrides,
    },
  };
}

/** A pub push. */
export function pub(channel, offset, data = {n: offset}) {
  return {op: 'pub', channel, offset, data, from: {user: '', client: 'c-9'}, ts: 1700000000000 + offset};
}

/** A storage that behaves like localStorage's get/set, for persistence tests. */
export class MemoryStorage {
  map = new Map();
  get(key) { return this.map.has(key) ? this.map.get(key) : null; }
  set(key, value) { this.map.set(key, value); }
}
