// Unit tests of tether.js on a fake WebSocket and fake timers: no network, no real sleeps.
// Run: node --test tether-server/src/test/js/
import {describe, it, beforeEach, afterEach, mock} from 'node:test';
import assert from 'node:assert/strict';
import {TetherClient, TetherError} from '../../main/resources/static/tether.js';
import {FakeServer, connectResult, pub, MemoryStorage} from './fake-websocket.mjs';

const URL = 'ws://tether.test/ws';
const EPOCH = 'e-1';

let server;

beforeEach(() => {
  mock.timers.enable({apis: ['setTimeout', 'Date'], now: 0});
  server = new FakeServer();
});

afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

/** A client whose every event is recorded in `events` as [name, payload]. */
function newClient(options = {}) {
  const client = new TetherClient(URL, {WebSocket: server.WebSocket, network: null, ...options});
  const events = [];
  for (const name of ['state', 'connected', 'disconnected', 'closed', 'error']) {
    client.on(name, (payload) => events.push([name, payload]));
  }
  return {client, events};
}

/** Opens the latest socket and answers its connect command; returns the socket. */
function accept(result = {}) {
  const ws = server.latest;
  ws.open();
  const connect = ws.take().find((m) => m.op === 'connect');
  assert.ok(connect, 'the client sends connect first');
  ws.receive(connectResult(connect.id, result));
  return ws;
}

/** Answers the client's pending subscribe for `channel` with the given result fields. */
function answerSubscribe(ws, channel, result) {
  const cmd = ws.messages().filter((m) => m.op === 'subscribe' && m.channel === channel).at(-1);
  assert.ok(cmd, `a subscribe to ${channel} was sent`);
  ws.receive({id: cmd.id, result: {channel, epoch: EPOCH, ...result}});
  return cmd;
}

/** A connected client subscribed to `channel`, with publications 1..delivered already delivered. */
function subscribed(channel, {delivered = 0, clientOptions = {}, subOptions = {}} = {}) {
  const {client, events} = newClient(clientOptions);
  const pubs = [];
  const gaps = [];
  const results = [];
  client.connect();
  const ws = accept();
  const sub = client.subscribe(channel, {
    onPublication: (p) => pubs.push(p), onGap: (g) => gaps.push(g), onSubscribed: (r) => results.push(r), ...subOptions,
  });
  answerSubscribe(ws, channel, {offset: 0});
  for (let i = 1; i <= delivered; i++) ws.receive(pub(channel, i));
  return {client, events, ws, sub, pubs, gaps, results};
}

const offsets = (pubs) => pubs.map((p) => p.offset);

describe('connecting', () => {
  it('keeps the default of an option given as undefined and refuses a timing that is not a number', () => {
    const {client} = newClient({connectTimeout: undefined, minReconnectDelay: undefined});
    client.connect();
    mock.timers.tick(9999);
    assert.equal(server.latest.isClosed, false, 'the default 10 s connect timeout still applies');
    assert.throws(() => new TetherClient(URL, {WebSocket: server.WebSocket, network: null, publishTimeout: NaN}),
      /option publishTimeout must be a finite number >= 0, got NaN/);
    assert.throws(() => new TetherClient(URL, {WebSocket: server.WebSocket, network: null, ackInterval: '200'}),
      /option ackInterval/);
  });

  it('leaves a listener for error events on a socket it drops while still connecting', () => {
    const {client} = newClient();
    client.connect();
    const ws = server.latest;
    client.close();
    assert.equal(typeof ws.onerror, 'function', 'Node\'s "ws" throws on an error event with no listener');
    assert.equal(ws.onmessage, null);
  });

  it('sends connect with name, info and token and becomes connected', () => {
    const {client, events} = newClient({token: 'jwt', name: 'test/1', info: {name: 'Ann'}});
    client.connect();
    assert.equal(client.state, 'connecting');
    assert.equal(server.latest.protocols, 'tether.v1.json');
    const ws = server.latest;
    ws.open();
    const [connect] = ws.take();
    assert.deepEqual(connect, {id: connect.id, op: 'connect', name: 'test/1', token: 'jwt', info: {name: 'Ann'}});
    ws.receive(connectResult(connect.id, {client: 'c-7', session: 's-7'}));
    assert.equal(client.state, 'connected');
    assert.equal(client.session, 's-7');
    assert.equal(client.clientId, 'c-7');
    assert.deepEqual(events.filter(([n]) => n === 'state').map(([, e]) => e.state), ['connecting', 'connected']);
    const [, connected] = events.find(([n]) => n === 'connected');
    assert.equal(connected.resumed, false);
  });

  it('asks getToken for a fresh token on every connect', async () => {
    let n = 0;
    const {client} = newClient({getToken: async () => `t${++n}`});
    client.connect();
    await flushMicrotasks();
    server.latest.open();
    assert.equal(server.latest.last('connect').token, 't1');
    server.latest.receive(connectResult(1));
    server.latest.drop(1006);
    mock.timers.tick(500);
    await flushMicrotasks();
    server.latest.open();
    assert.equal(server.latest.last('connect').token, 't2');
    assert.equal(server.sockets.length, 2);
  });

  it('answers ping with pong', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    ws.receive({op: 'ping'});
    assert.deepEqual(ws.take(), [{op: 'pong'}]);
  });

  it('splits frames holding several messages and ignores blank lines', () => {
    const {ws, pubs} = subscribed('a');
    ws.receiveRaw([pub('a', 1), pub('a', 2), {op: 'ping'}].map((m) => JSON.stringify(m)).join('\n') + '\n \r\n' +
      JSON.stringify(pub('a', 3)));
    assert.deepEqual(offsets(pubs), [1, 2, 3]);
    assert.ok(ws.take().some((m) => m.op === 'pong'));
  });

  it('sends the messages produced by one incoming frame in one outgoing frame', () => {
    const {client} = newClient();
    client.subscribe('a');
    client.subscribe('b');
    client.publish('a', 1);
    client.connect();
    const ws = server.latest;
    ws.open();
    const framesBefore = ws.frames.length;
    ws.receive(connectResult(ws.last('connect').id));
    assert.equal(ws.frames.length, framesBefore + 1);
    // Each subscribe is followed by its early ack (protocol E), all in the one frame.
    assert.deepEqual(ws.take().slice(1).map((m) => m.op), ['subscribe', 'ack', 'subscribe', 'ack', 'publish']);
  });
});

describe('resume', () => {
  it('a channel unsubscribed and subscribed again while away is subscribed fresh, not resumed', () => {
    const {client, ws, sub} = subscribed('chat', {delivered: 3});
    ws.drop(1006);
    sub.unsubscribe();
    const pubs = [];
    client.subscribe('chat', {since: {offset: 1, epoch: EPOCH}, presence: true, onPublication: (p) => pubs.push(p)});
    mock.timers.tick(20000);
    const ws2 = server.latest;
    ws2.open();
    const connect = ws2.take()[0];
    ws2.receive(connectResult(connect.id,
      {resumed: true, subscriptions: [{channel: 'chat', offset: 9, epoch: EPOCH, recovered: true}]}));
    const sent = ws2.take().filter((m) => m.op === 'unsubscribe' || m.op === 'subscribe');
    assert.deepEqual(sent.map((m) => m.op), ['unsubscribe', 'subscribe'], 'the old one goes before the new one comes');
    assert.deepEqual(sent[1].since, {offset: 1, epoch: EPOCH});
    assert.equal(sent[1].presence, true);
    ws2.receive({id: sent[1].id, result: {channel: 'chat', offset: 3, epoch: EPOCH}}, pub('chat', 2), pub('chat', 3));
    assert.deepEqual(offsets(pubs), [2, 3]);
  });

  it('resumes the session: subscriptions come back without subscribe and replays are delivered once', () => {
    const {client, events, ws, pubs} = subscribed('chat', {delivered: 3});
    ws.drop(1006);
    assert.equal(client.state, 'reconnecting');
    mock.timers.tick(20000);
    const ws2 = server.latest;
    assert.notEqual(ws2, ws);
    ws2.open();
    const connect = ws2.take()[0];
    assert.equal(connect.session, 's-1');
    // The server replays from its last ack (1), so 2 and 3 come again before the missed 4 and 5.
    ws2.receive(
      connectResult(connect.id, {resumed: true, subscriptions: [{channel: 'chat', offset: 5, epoch: EPOCH, recovered: true}]}),
      pub('chat', 2), pub('chat', 3), pub('chat', 4), pub('chat', 5));
    assert.deepEqual(offsets(pubs), [1, 2, 3, 4, 5]);
    assert.equal(ws2.messages().filter((m) => m.op === 'subscribe').length, 0);
    const connected = events.filter(([n]) => n === 'connected').at(-1)[1];
    assert.equal(connected.resumed, true);
    assert.equal(connected.recovered, 2);
    assert.equal(client.state, 'connected');
  });

  it('resubscribes every channel with since its last delivered position when the session is gone', () => {
    const {ws, pubs, results, sub} = subscribed('chat', {delivered: 3});
    ws.drop(4000);
    mock.timers.tick(20000);
    const ws2 = accept({resumed: false, session: 's-2'});
    const cmd = ws2.last('subscribe');
    assert.deepEqual(cmd.since, {offset: 3, epoch: EPOCH});
    ws2.receive({id: cmd.id, result: {channel: 'chat', offset: 6, epoch: EPOCH, recovered: true}},
      pub('chat', 4), pub('chat', 5), pub('chat', 6));
    assert.deepEqual(offsets(pubs), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(sub.position, {offset: 6, epoch: EPOCH});
    const last = results.at(-1);
    assert.equal(last.missed, 3);
    assert.equal(last.resumed, false);
    assert.equal(last.recovered, true);
  });

  it('drops publications at or below the last delivered offset', () => {
    const {ws, pubs} = subscribed('chat', {delivered: 2});
    ws.receive(pub('chat', 1), pub('chat', 2), pub('chat', 3), pub('chat', 3), pub('chat', 2));
    assert.deepEqual(offsets(pubs), [1, 2, 3]);
  });

  it('unsubscribes on the server a channel the application left while away', () => {
    const {ws, sub} = subscribed('chat', {delivered: 1});
    ws.drop(1006);
    sub.unsubscribe();
    mock.timers.tick(20000);
    const ws2 = server.latest;
    ws2.open();
    ws2.receive(connectResult(ws2.take()[0].id,
      {resumed: true, subscriptions: [{channel: 'chat', offset: 4, epoch: EPOCH, recovered: true}]}));
    assert.deepEqual(ws2.take().map((m) => [m.op, m.channel]), [['unsubscribe', 'chat']]);
  });

  it('works with Web Storage (getItem/setItem), as localStorage', () => {
    const map = new Map();
    const storage = {getItem: (k) => map.get(k) ?? null, setItem: (k, v) => map.set(k, v)};
    subscribed('chat', {delivered: 2, clientOptions: {storage, storageKey: 'k'}});
    assert.deepEqual(JSON.parse(map.get('k')), {session: 's-1', positions: {chat: {offset: 2, epoch: EPOCH}}});
  });

  it('persists the session and positions so that a new client resumes and recovers from them', () => {
    const storage = new MemoryStorage();
    const first = subscribed('chat', {delivered: 4, clientOptions: {storage}});
    first.client.cancel();  // at once: the position is saved with every frame that delivered something

    const {client} = newClient({storage});
    const pubs = [];
    client.subscribe('chat', {onPublication: (p) => pubs.push(p)});
    client.connect();
    const ws = server.latest;
    ws.open();
    assert.equal(ws.last('connect').session, 's-1');
    ws.receive(connectResult(ws.last('connect').id, {resumed: false, session: 's-2'}));
    assert.deepEqual(ws.last('subscribe').since, {offset: 4, epoch: EPOCH});
  });
});

describe('requests', () => {
  it('resends history and presence requests that were unanswered when the connection dropped', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const h = client.history('chat', {limit: 2, since: {offset: 3, epoch: EPOCH}});
    const p = client.presence('chat');
    ws.drop(1006);
    mock.timers.tick(20000);
    const ws2 = accept();
    const [history, presence] = ws2.take();
    assert.deepEqual({...history, id: 0}, {id: 0, op: 'history', channel: 'chat', since: {offset: 3, epoch: EPOCH}, limit: 2});
    assert.equal(presence.op, 'presence');
    ws2.receive({id: history.id, result: {publications: [{offset: 4, data: 'x', ts: 1}], offset: 9, epoch: EPOCH}},
      {id: presence.id, result: {clients: [{client: 'c-2', user: 'bob'}]}});
    assert.deepEqual((await h).publications, [{channel: 'chat', offset: 4, epoch: EPOCH, data: 'x', ts: 1}]);
    assert.deepEqual((await p).clients, [{client: 'c-2', user: 'bob'}]);
  });

  it('reconnects after a temporary connect error', () => {
    const {client} = newClient();
    client.connect();
    const ws = server.latest;
    ws.open();
    ws.receive({id: ws.take()[0].id, error: {code: 100, message: 'internal', temporary: true}});
    assert.equal(ws.closedWith.code, 3000);
    mock.timers.tick(20000);
    assert.equal(server.sockets.length, 2);
  });
});

describe('gaps', () => {
  it('reports offsets the server skipped without announcing them', () => {
    const {ws, pubs, gaps} = subscribed('chat', {delivered: 2});
    ws.receive(pub('chat', 5));
    assert.deepEqual(gaps, [{channel: 'chat', from: 3, to: 4, reason: 'missing'}]);
    assert.deepEqual(offsets(pubs), [1, 2, 5]);
  });

  it('reports a retention gap as an event and continues after it', () => {
    const {ws, pubs, gaps, results, sub} = subscribed('chat', {delivered: 2});
    ws.drop(1006);
    mock.timers.tick(20000);
    const ws2 = accept();
    const cmd = ws2.last('subscribe');
    ws2.receive({id: cmd.id, result: {channel: 'chat', offset: 12, epoch: EPOCH, recovered: false, gap: {from: 3, to: 9, reason: 'retention'}}},
      pub('chat', 10), pub('chat', 11), pub('chat', 12));
    assert.deepEqual(gaps, [{channel: 'chat', from: 3, to: 9, reason: 'retention'}]);
    assert.deepEqual(offsets(pubs), [1, 2, 10, 11, 12]);
    assert.equal(results.at(-1).recovered, false);
    assert.equal(results.at(-1).missed, 3);
    assert.deepEqual(sub.position, {offset: 12, epoch: EPOCH});
    const acks = ws2.messages().filter((m) => m.op === 'ack');
    assert.deepEqual(acks[0], {op: 'ack', channel: 'chat', offset: 2}, 'the early ack, with the subscribe');
    assert.deepEqual(acks[1], {op: 'ack', channel: 'chat', offset: 9}, 'the ack after the result: past the gap');
  });

  it('reports an epoch change as a gap and starts over live in the new epoch', () => {
    const {ws, pubs, gaps, sub} = subscribed('chat', {delivered: 5});
    ws.drop(1006);
    mock.timers.tick(20000);
    const ws2 = accept();
    const cmd = ws2.last('subscribe');
    ws2.receive({id: cmd.id, result: {channel: 'chat', offset: 2, epoch: 'e-2', recovered: false, gap: {reason: 'epoch'}}},
      pub('chat', 3));
    assert.deepEqual(gaps, [{channel: 'chat', reason: 'epoch'}]);
    assert.deepEqual(offsets(pubs), [1, 2, 3, 4, 5, 3]);
    assert.equal(pubs.at(-1).epoch, 'e-2');
    assert.deepEqual(sub.position, {offset: 3, epoch: 'e-2'});
  });

  it('does not report offsets this client already delivered as part of a gap', () => {
    // The server counts the gap from its last ack (2); this client had delivered up to 4.
    const {ws, gaps} = subscribed('chat', {delivered: 4});
    ws.drop(1006);
    mock.timers.tick(20000);
    const ws2 = server.latest;
    ws2.open();
    ws2.receive(connectResult(ws2.take()[0].id, {resumed: true,
      subscriptions: [{channel: 'chat', offset: 20, epoch: EPOCH, recovered: false, gap: {from: 3, to: 6, reason: 'retention'}}]}));
    assert.deepEqual(gaps, [{channel: 'chat', from: 5, to: 6, reason: 'retention'}]);
  });
});

describe('acks', () => {
  it('sends an ack in the same frame as each subscribe, with since or 0 (protocol E)', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const frames = ws.frames.length;
    client.subscribe('live');
    client.subscribe('from', {since: {offset: 41, epoch: EPOCH}});
    assert.equal(ws.frames.length, frames + 2);
    assert.deepEqual(ws.frames.slice(frames).map((f) => f.split('\n').map((l) => JSON.parse(l)).map((m) => [m.op, m.offset])),
      [[['subscribe', undefined], ['ack', 0]], [['subscribe', undefined], ['ack', 41]]]);
  });

  it('acks right after the subscribe result with the result offset', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    client.subscribe('chat');
    answerSubscribe(ws, 'chat', {offset: 41});
    assert.deepEqual(ws.take().at(-1), {op: 'ack', channel: 'chat', offset: 41});
  });

  it('acks right after a subscribe with since with the since offset', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    client.subscribe('chat', {since: {offset: 7, epoch: EPOCH}});
    answerSubscribe(ws, 'chat', {offset: 9, recovered: true});
    assert.deepEqual(ws.take().at(-1), {op: 'ack', channel: 'chat', offset: 7});
  });

  it('acks every window/2 publications at once and the rest after ackInterval', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept({window: 8});
    client.subscribe('chat');
    answerSubscribe(ws, 'chat', {offset: 0});
    ws.take();
    for (let i = 1; i <= 10; i++) ws.receive(pub('chat', i));
    assert.deepEqual(ws.take().map((m) => m.offset), [4, 8]);
    mock.timers.tick(199);
    assert.deepEqual(ws.take(), []);
    mock.timers.tick(1);
    assert.deepEqual(ws.take(), [{op: 'ack', channel: 'chat', offset: 10}]);
    mock.timers.tick(1000);
    assert.deepEqual(ws.take(), [], 'nothing more to ack');
  });

  it('acks once per frame of publications, not once per publication', () => {
    const {ws} = subscribed('chat');
    ws.take();
    ws.receive(pub('chat', 1), pub('chat', 2), pub('chat', 3));
    ws.receive(pub('chat', 4));
    mock.timers.tick(200);
    assert.deepEqual(ws.take(), [{op: 'ack', channel: 'chat', offset: 4}]);
  });
});

describe('publish', () => {
  it('refuses a command larger than maxFrameBytes without sending it or dropping the connection', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    // Data under maxPublicationBytes, but the whole command (envelope, channel, key) is over the frame limit.
    const data = 'x'.repeat(65536 - 40);
    await assert.rejects(client.publish('chat', data), (e) => e instanceof TetherError && e.code === 108
      && /more than maxFrameBytes \(65536\)/.test(e.message));
    assert.equal(ws.take().length, 0);
    assert.equal(client.state, 'connected');
    const small = newClient({maxFrameBytes: 200});
    small.client.connect();
    accept();
    await assert.rejects(small.client.publish('chat', 'y'.repeat(150)), (e) => e.code === 108);
  });

  it('waits out a 107 retryAfter also across a reconnect (protocol G2)', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const p = client.publish('chat', 1);
    const cmd = ws.last('publish');
    ws.receive({id: cmd.id, error: {code: 107, message: 'too many keys', temporary: true, retryAfter: 15000}});
    ws.drop(1006);
    mock.timers.tick(10000);
    const ws2 = accept({resumed: true, subscriptions: []});
    assert.equal(ws2.messages().filter((m) => m.op === 'publish').length, 0, 'not resent before retryAfter');
    mock.timers.tick(5000);
    const again = ws2.last('publish');
    assert.equal(again.key, cmd.key);
    ws2.receive({id: again.id, result: {offset: 1, epoch: EPOCH, duplicate: false}});
    assert.equal((await p).offset, 1);
  });

  it('sends the data as it was when publish was called, also when queued offline', async () => {
    const {client} = newClient();
    client.connect();
    const data = {text: 'a', list: [1]};
    const p = client.publish('chat', data);
    data.text = 'b';
    data.list.push(2);
    const ws = accept();
    const cmd = ws.last('publish');
    assert.deepEqual(cmd.data, {text: 'a', list: [1]});
    ws.receive({id: cmd.id, result: {offset: 1, epoch: EPOCH, duplicate: false}});
    await p;
    await assert.rejects(client.publish('chat', {n: 1n}), TypeError);
  });

  it('gives every publish its own key and resolves with the stored offset', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const a = client.publish('chat', {text: 'a'});
    const b = client.publish('chat', {text: 'b'});
    const [pa, pb] = ws.take();
    assert.notEqual(pa.key, pb.key);
    ws.receive({id: pa.id, result: {offset: 1, epoch: EPOCH, duplicate: false}});
    ws.receive({id: pb.id, result: {offset: 2, epoch: EPOCH, duplicate: false}});
    assert.deepEqual(await a, {offset: 1, epoch: EPOCH, duplicate: false});
    assert.deepEqual(await b, {offset: 2, epoch: EPOCH, duplicate: false});
  });

  it('resends an unanswered publish with the same key after reconnect and settles exactly once', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    let settled = 0;
    const p = client.publish('chat', {text: 'hi'}).finally(() => settled++);
    const first = ws.take()[0];
    ws.drop(1006);
    mock.timers.tick(20000);
    const ws2 = accept({resumed: true, subscriptions: []});
    const again = ws2.take().find((m) => m.op === 'publish');
    assert.equal(again.key, first.key);
    assert.deepEqual(again.data, {text: 'hi'});
    ws2.receive({id: again.id, result: {offset: 9, epoch: EPOCH, duplicate: true}});
    ws2.receive({id: again.id, result: {offset: 9, epoch: EPOCH, duplicate: true}});
    assert.deepEqual(await p, {offset: 9, epoch: EPOCH, duplicate: true});
    await flushMicrotasks();
    assert.equal(settled, 1);
    ws2.drop(1006);
    mock.timers.tick(20000);
    const ws3 = accept({resumed: true, subscriptions: []});
    assert.equal(ws3.messages().filter((m) => m.op === 'publish').length, 0, 'not sent again once acknowledged');
  });

  it('queues publishes made while offline and sends them in call order when the connection returns', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    ws.drop(1006);
    const results = [client.publish('chat', 1), client.publish('chat', 2), client.publish('chat', 3)];
    assert.equal(server.sockets.length, 1);
    mock.timers.tick(20000);
    const ws2 = accept();
    const sent = ws2.take().filter((m) => m.op === 'publish');
    assert.deepEqual(sent.map((m) => m.data), [1, 2, 3]);
    sent.forEach((m, i) => ws2.receive({id: m.id, result: {offset: i + 1, epoch: EPOCH, duplicate: false}}));
    assert.deepEqual((await Promise.all(results)).map((r) => r.offset), [1, 2, 3]);
  });

  it('sends publishes made before the first connect once connected', async () => {
    const {client} = newClient();
    const p = client.publish('chat', 'early', {key: 'my-key'});
    client.connect();
    const ws = accept();
    const sent = ws.take().find((m) => m.op === 'publish');
    assert.equal(sent.key, 'my-key');
    ws.receive({id: sent.id, result: {offset: 1, epoch: EPOCH, duplicate: false}});
    assert.equal((await p).offset, 1);
  });

  it('rejects with a timeout when no reply comes in time, and ignores a late reply', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const p = client.publish('chat', 'x', {timeout: 1000});
    const sent = ws.take()[0];
    mock.timers.tick(1000);
    await assert.rejects(p, (e) => e instanceof TetherError && e.code === 'timeout');
    ws.receive({id: sent.id, result: {offset: 1, epoch: EPOCH, duplicate: false}});
    ws.drop(1006);
    mock.timers.tick(20000);
    assert.equal(accept().take().filter((m) => m.op === 'publish').length, 0, 'a timed-out publish is not resent');
  });

  it('retries a publish refused with a temporary error, with the same key', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const p = client.publish('chat', 'x');
    const first = ws.take()[0];
    ws.receive({id: first.id, error: {code: 107, message: 'rate limited', temporary: true, retryAfter: 300}});
    mock.timers.tick(299);
    assert.deepEqual(ws.take(), []);
    mock.timers.tick(1);
    const second = ws.take()[0];
    assert.equal(second.key, first.key);
    ws.receive({id: second.id, result: {offset: 3, epoch: EPOCH, duplicate: false}});
    assert.equal((await p).offset, 3);
  });

  it('rejects a publish refused with a permanent error', async () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const p = client.publish('#bob', 'x');
    ws.receive({id: ws.take()[0].id, error: {code: 103, message: 'permission denied', temporary: false}});
    await assert.rejects(p, (e) => e.code === 103);
  });

  it('refuses data larger than maxPublicationBytes without sending it', async () => {
    const {client} = newClient({maxPublicationBytes: 10});
    client.connect();
    const ws = accept();
    await assert.rejects(client.publish('chat', 'more than ten bytes'), (e) => e.code === 108);
    assert.deepEqual(ws.take(), []);
  });
});

describe('reconnect', () => {
  it('waits a full-jitter delay: random(0, min(max, min * 2^attempt))', () => {
    mock.method(Math, 'random', () => 0.999999);
    const {client, events} = newClient({minReconnectDelay: 100, maxReconnectDelay: 1000});
    client.connect();
    const delays = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      server.latest.drop(1006);
      const delay = events.filter(([n]) => n === 'disconnected').at(-1)[1].delay;
      delays.push(delay);
      const sockets = server.sockets.length;
      mock.timers.tick(delay - 1);
      assert.equal(server.sockets.length, sockets, 'no attempt before the delay');
      mock.timers.tick(1);
      assert.equal(server.sockets.length, sockets + 1, 'an attempt at the delay');
    }
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
  });

  it('can reconnect at once: the jitter goes down to zero', () => {
    mock.method(Math, 'random', () => 0);
    const {client} = newClient();
    client.connect();
    accept().drop(1006);
    mock.timers.tick(0);
    assert.equal(server.sockets.length, 2);
  });

  it('starts the backoff over once a connection has lasted 10 s', () => {
    mock.method(Math, 'random', () => 0.999999);
    const {client, events} = newClient({minReconnectDelay: 100, maxReconnectDelay: 10000});
    client.connect();
    for (let i = 0; i < 3; i++) {
      server.latest.drop(1006);
      mock.timers.tick(10000);
    }
    const ws = accept();
    mock.timers.tick(10000);
    ws.drop(1006);
    assert.equal(events.filter(([n]) => n === 'disconnected').at(-1)[1].delay, 99);
  });

  it('keeps the backoff growing when the server closes a connection at once', () => {
    mock.method(Math, 'random', () => 0.999999);
    const {client, events} = newClient({minReconnectDelay: 100, maxReconnectDelay: 10000});
    client.connect();
    for (let i = 0; i < 3; i++) {
      server.latest.drop(1006);
      mock.timers.tick(10000);
    }
    accept().drop(4000);  // accepted, then closed at once: not an established connection
    assert.equal(events.filter(([n]) => n === 'disconnected').at(-1)[1].delay, 799, '4th delay, not the first again');
  });

  it('uses the server\'s retryAfter as the delay', () => {
    const {client, events} = newClient();
    client.connect();
    const ws = accept();
    ws.receive({op: 'disconnect', code: 4000, reason: 'shutting down', reconnect: true, retryAfter: 3210});
    ws.drop(4000, 'shutting down');
    assert.deepEqual(events.filter(([n]) => n === 'disconnected').at(-1)[1],
      {code: 4000, reason: 'shutting down', reconnect: true, delay: 3210});
    mock.timers.tick(3209);
    assert.equal(server.sockets.length, 1);
    mock.timers.tick(1);
    assert.equal(server.sockets.length, 2);
  });

  it('keeps at most one reconnect pending', () => {
    const network = new EventTarget();
    const {client} = newClient({network});
    client.connect();
    const ws = accept();
    ws.drop(1006);
    ws.drop(1006);  // a stale socket's second close is ignored
    network.dispatchEvent(new Event('offline'));
    mock.timers.tick(20000);
    assert.equal(server.sockets.length, 2);
    server.latest.drop(1006);
    network.dispatchEvent(new Event('online'));  // reconnects soon (within minReconnectDelay) instead of after the delay...
    network.dispatchEvent(new Event('online'));  // ...once
    mock.timers.tick(500);
    assert.equal(server.sockets.length, 3);
    mock.timers.tick(60000);
    assert.equal(server.sockets.length, 3, 'the cancelled timer does not fire');
  });

  it('back online, still waits for a delay the server asked for', () => {
    const network = new EventTarget();
    const {client} = newClient({network});
    client.connect();
    const ws = accept();
    ws.receive({op: 'disconnect', code: 4000, reason: 'shutting down', reconnect: true, retryAfter: 5000});
    ws.drop(4000);
    network.dispatchEvent(new Event('online'));
    mock.timers.tick(4999);
    assert.equal(server.sockets.length, 1);
    mock.timers.tick(1);
    assert.equal(server.sockets.length, 2);
    client.close();
  });

  it('gives up on a getToken that never settles after connectTimeout, and tries again', async () => {
    let n = 0;
    const {client, events} = newClient({getToken: () => (++n === 1 ? new Promise(() => {}) : `t${n}`), connectTimeout: 1000});
    client.connect();
    await Promise.resolve();
    mock.timers.tick(1000);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.ok(events.some(([name, e]) => name === 'error' && /connectTimeout/.test(e.message)));
    mock.timers.tick(20000);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.equal(server.sockets.length, 1);
    assert.equal(server.latest.url, URL);
    client.close();
  });

  it('drops the socket when the browser goes offline, keeping the session', () => {
    const network = new EventTarget();
    const {client, events} = newClient({network});
    client.connect();
    const ws = accept();
    network.dispatchEvent(new Event('offline'));
    assert.equal(ws.closedWith.code, 3000);
    assert.equal(client.state, 'reconnecting');
    assert.equal(events.filter(([n]) => n === 'disconnected').at(-1)[1].reason, 'network offline');
  });

  for (const code of [4500, 4501, 4502, 4503]) {
    it(`stops reconnecting after close code ${code}`, async () => {
      const {client, events} = newClient();
      client.connect();
      const ws = accept();
      const p = client.publish('chat', 'x');
      ws.receive({op: 'disconnect', code, reason: 'no', reconnect: false});
      ws.drop(code, 'no');
      mock.timers.tick(120000);
      assert.equal(server.sockets.length, 1);
      assert.equal(client.state, 'closed');
      assert.deepEqual(events.at(-1), ['closed', {code, reason: 'no'}]);
      await assert.rejects(p, (e) => e.code === 'closed');
    });
  }

  it('stops reconnecting on a 4500-range close even without a disconnect push', () => {
    const {client} = newClient();
    client.connect();
    accept().drop(4502);
    mock.timers.tick(120000);
    assert.equal(server.sockets.length, 1);
    assert.equal(client.state, 'closed');
  });

  it('reconnects after codes 4000-4499 and after abnormal closes', () => {
    const {client} = newClient();
    client.connect();
    for (const code of [4000, 4001, 4002, 4003, 4004, 1006, 1001]) {
      accept().drop(code);
      assert.equal(client.state, 'reconnecting');
      mock.timers.tick(20000);
    }
    assert.equal(server.sockets.length, 8);
  });

  it('closes with 4501 when the server refuses the token', () => {
    const {client, events} = newClient({token: 'bad'});
    client.connect();
    const ws = server.latest;
    ws.open();
    ws.receive({id: ws.take()[0].id, error: {code: 103, message: 'bad token', temporary: false}},
      {op: 'disconnect', code: 4501, reason: 'unauthorized', reconnect: false});
    ws.drop(4501);
    assert.equal(client.state, 'closed');
    // Decided at the error reply, with its message; the push and close that follow change nothing.
    assert.deepEqual(events.at(-1), ['closed', {code: 4501, reason: 'bad token'}]);
  });

  it('gives up at once on a connect the server refuses for good, even if a reconnect-push follows', () => {
    const {client, events} = newClient({info: {name: 'x'.repeat(10)}});
    client.connect();
    const ws = server.latest;
    ws.open();
    ws.receive({id: ws.take()[0].id, error: {code: 101, message: 'field \'info\' is larger than 4096 bytes', temporary: false}});
    assert.equal(client.state, 'closed');
    assert.ok(ws.isClosed);
    assert.deepEqual(events.at(-1), ['closed', {code: 4500, reason: 'field \'info\' is larger than 4096 bytes'}]);
    ws.receive({op: 'disconnect', code: 4004, reason: 'no connect in time', reconnect: true});
    ws.drop(4004);
    mock.timers.tick(60000);
    assert.equal(server.sockets.length, 1, 'no new connection');
  });

  it('reconnects with a fresh token from getToken after the server says the token expired', async () => {
    let n = 0;
    const {client} = newClient({getToken: () => `t${++n}`});
    client.connect();
    await flushMicrotasks();
    const ws = server.latest;
    ws.open();
    ws.receive({id: ws.take()[0].id, error: {code: 112, message: 'token expired', temporary: false}},
      {op: 'disconnect', code: 4501, reason: 'token expired', reconnect: false});
    ws.drop(4501);
    assert.equal(client.state, 'connecting');
    mock.timers.tick(20000);
    await flushMicrotasks();
    server.latest.open();
    assert.equal(server.latest.last('connect').token, 't2');
  });

  it('waits at least retryAfter after 4003, or longer if the backoff says so', () => {
    mock.method(Math, 'random', () => 0.999999);
    const {client, events} = newClient({maxReconnectDelay: 20000});
    client.connect();
    const ws = accept();
    ws.receive({op: 'disconnect', code: 4003, reason: 'overloaded', reconnect: true, retryAfter: 7000});
    ws.drop(4003);
    assert.equal(events.filter(([n]) => n === 'disconnected').at(-1)[1].delay, 19999);
  });

  it('gives up on a socket that does not reach the connect result within connectTimeout', () => {
    const {client} = newClient({connectTimeout: 5000});
    client.connect();
    const ws = server.latest;
    mock.timers.tick(5000);
    assert.equal(ws.closedWith.code, 3000);
    assert.equal(client.state, 'connecting');
    mock.timers.tick(20000);
    assert.equal(server.sockets.length, 2);
  });
});

describe('heartbeat', () => {
  it('treats silence for ping+pong ms as a dead connection and reconnects', () => {
    const {client, events} = newClient();
    client.connect();
    const ws = accept({ping: 1000, pong: 500});
    mock.timers.tick(1499);
    assert.equal(ws.closedWith, null);
    mock.timers.tick(1);
    assert.equal(ws.closedWith.code, 3000);
    assert.equal(client.state, 'reconnecting');
    assert.match(events.filter(([n]) => n === 'disconnected').at(-1)[1].reason, /nothing received for 1500 ms/);
    mock.timers.tick(20000);
    assert.equal(server.sockets.length, 2);
  });

  it('stays connected while pings keep coming', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept({ping: 1000, pong: 500});
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(1000);
      ws.receive({op: 'ping'});
    }
    assert.equal(ws.closedWith, null);
    assert.equal(client.state, 'connected');
    assert.equal(ws.messages().filter((m) => m.op === 'pong').length, 10);
  });
});

describe('subscriptions', () => {
  it('delivers presence joins and leaves', () => {
    const joins = [];
    const leaves = [];
    const {ws} = subscribed('chat', {subOptions: {presence: true, onJoin: (e) => joins.push(e), onLeave: (e) => leaves.push(e)}});
    assert.equal(ws.last('subscribe').presence, true);
    ws.receive({op: 'join', channel: 'chat', client: 'c-2', user: 'bob', info: {name: 'Bob'}},
      {op: 'leave', channel: 'chat', client: 'c-2', user: 'bob'});
    assert.deepEqual(joins, [{channel: 'chat', client: 'c-2', user: 'bob', info: {name: 'Bob'}}]);
    assert.deepEqual(leaves, [{channel: 'chat', client: 'c-2', user: 'bob'}]);
  });

  it('delivers nothing after unsubscribe', () => {
    const {ws, sub, pubs} = subscribed('chat', {delivered: 1});
    sub.unsubscribe();
    assert.equal(ws.last('unsubscribe').channel, 'chat');
    ws.receive(pub('chat', 2));
    assert.deepEqual(offsets(pubs), [1]);
    assert.equal(sub.state, 'unsubscribed');
  });

  it('reports a refused subscription to onError and forgets it', () => {
    const {client} = newClient();
    client.connect();
    const ws = accept();
    const errors = [];
    const sub = client.subscribe('#bob', {onError: (e) => errors.push(e)});
    ws.receive({id: ws.last('subscribe').id, error: {code: 103, message: 'belongs to another user', temporary: false}});
    assert.equal(errors[0].code, 103);
    assert.equal(sub.state, 'failed');
    assert.equal(client.subscription('#bob'), undefined);
  });

  it('keeps delivering when an application callback throws', () => {
    const {client} = newClient();
    const errors = [];
    client.on('error', (e) => errors.push(e));
    client.connect();
    const ws = accept();
    const seen = [];
    client.subscribe('chat', {onPublication: (p) => { seen.push(p.offset); if (p.offset === 1) throw new Error('app bug'); }});
    answerSubscribe(ws, 'chat', {offset: 0});
    ws.receive(pub('chat', 1), pub('chat', 2));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(errors[0].message, 'app bug');
  });
});

describe('closing', () => {
  it('close() sends close 1000, ends with a closed event and nothing after it', async () => {
    const {client, events, ws} = subscribed('chat');
    const p = client.publish('chat', 'x');
    client.close();
    assert.equal(ws.closedWith.code, 1000);
    assert.equal(client.state, 'closed');
    assert.deepEqual(events.at(-1), ['closed', {code: 1000, reason: 'client closed'}]);
    await assert.rejects(p, (e) => e.code === 'closed');
    const count = events.length;
    ws.drop(1000);
    mock.timers.tick(60000);
    assert.equal(events.length, count);
    assert.equal(server.sockets.length, 1);
    await assert.rejects(client.publish('chat', 'y'), (e) => e.code === 'closed');
  });

  it('cancel() drops the socket without a normal close and keeps the stored session', () => {
    const storage = new MemoryStorage();
    const {client, ws} = subscribed('chat', {clientOptions: {storage}});
    client.cancel();
    assert.equal(ws.closedWith.code, 3000);
    assert.equal(JSON.parse(storage.get(`tether:${URL}`)).session, 's-1');
    assert.equal(client.state, 'closed');
  });

  it('emits nothing after closed, even when a listener closes the client while it connects', () => {
    const {client, events} = newClient();
    client.on('state', ({state}) => { if (state === 'connected') client.close(); });
    client.subscribe('chat', {onSubscribed: () => assert.fail('no callback after close')});
    client.connect();
    accept();
    assert.deepEqual(events.at(-1), ['closed', {code: 1000, reason: 'client closed'}]);
    assert.equal(events.filter(([n]) => n === 'connected').length, 0);
  });

  it('close() during a reconnect delay cancels the reconnect', () => {
    const {client} = newClient();
    client.connect();
    accept().drop(1006);
    client.close();
    mock.timers.tick(60000);
    assert.equal(server.sockets.length, 1);
  });
});

async function flushMicrotasks() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
