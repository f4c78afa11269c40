// tether.js in Node against a real server, with the "ws" package injected: a publisher and a
// subscriber whose TCP connections are cut (no close frame) again and again while messages flow.
// Every publication must reach the subscriber exactly once, in order, and every publish promise
// must settle exactly once.
//
//   TETHER_URL=http://127.0.0.1:18080 node node-client.e2e.mjs
import WebSocket from 'ws';
import {TetherClient} from '../../main/resources/static/tether.js';

const MESSAGES = 400;
// Published in rounds; the next round starts when the subscriber has the previous one, so that the
// stream goes on across the subscriber's reconnects instead of being over before the first one.
const ROUND = 10;
// The subscriber's connection is cut once it has received this many (and is connected again); the
// publisher's right after it sent the round starting with these, before any reply.
const SUBSCRIBER_CUTS_AT = [40, 130, 220, 310];
const PUBLISHER_CUTS_AT = [101, 251];
const WAIT_MS = 60_000;

const url = wsUrl(process.env.TETHER_URL);
const checks = [];

function check(name, ok, detail = '') {
  checks.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

function wsUrl(raw) {
  if (!raw) {
    console.error('TETHER_URL is not set: start a server and run TETHER_URL=http://127.0.0.1:18080 node node-client.e2e.mjs');
    process.exit(2);
  }
  const u = new URL(raw);
  if (u.protocol === 'http:' || u.protocol === 'https:') u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  return u.href;
}

/** A "ws" WebSocket class that remembers its instances, so that the test can cut them. */
function tracked() {
  const sockets = [];
  return {sockets, WebSocket: class extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }};
}

/**
 * Cuts the TCP connection without a close frame, as a dying network does, when `count` has reached
 * the next threshold and the client is connected (so that every cut hits a working connection).
 */
function cutter(client, sockets, thresholds) {
  let next = 0;
  return (count) => {
    if (next < thresholds.length && count >= thresholds[next] && client.state === 'connected' &&
        sockets.at(-1)?.readyState === WebSocket.OPEN) {
      next++;
      sockets.at(-1).terminate();
    }
  };
}

async function run() {
  const channel = `node-e2e:${Date.now().toString(36)}`;
  const sub = tracked();
  const pub = tracked();
  const subscriber = new TetherClient(url, {WebSocket: sub.WebSocket, name: 'node-e2e-subscriber'});
  const publisher = new TetherClient(url, {WebSocket: pub.WebSocket, name: 'node-e2e-publisher'});
  const counts = {subscriberResumes: 0, publisherReconnects: 0};
  const cutSubscriber = cutter(subscriber, sub.sockets, SUBSCRIBER_CUTS_AT);
  subscriber.on('connected', (e) => { if (e.resumed) counts.subscriberResumes++; });
  publisher.on('connected', () => counts.publisherReconnects++);

  const received = [];
  const gaps = [];
  const waiters = [];  // {count, resolve}: resolved once `count` publications were received
  const receivedAtLeast = (count) => new Promise((resolve) => {
    if (received.length >= count) resolve(true);
    else waiters.push({count, resolve});
  });
  let firstSubscribed;
  const subscribed = new Promise((resolve) => { firstSubscribed = resolve; });
  subscriber.subscribe(channel, {
    onSubscribed: () => firstSubscribed(),
    onPublication: (p) => {
      received.push(p);
      cutSubscriber(received.length);
      for (const w of waiters.filter((x) => received.length >= x.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    },
    onGap: (g) => gaps.push(g),
  });
  subscriber.connect();
  await subscribed;
  publisher.connect();

  const settlements = new Map();  // n -> times settled
  const published = [];
  let outcome = 'ok';
  for (let first = 1; first <= MESSAGES && outcome === 'ok'; first += ROUND) {
    const round = [];
    for (let n = first; n < first + ROUND; n++) {
      round.push(publisher.publish(channel, {n}).then((r) => r, (err) => ({error: err})).finally(() => {
        settlements.set(n, (settlements.get(n) ?? 0) + 1);
      }));
    }
    if (PUBLISHER_CUTS_AT.includes(first)) pub.sockets.at(-1).terminate();
    published.push(...await Promise.all(round));
    const timer = {};
    const timeout = new Promise((resolve) => { timer.id = setTimeout(resolve, WAIT_MS, false); });
    outcome = (await Promise.race([receivedAtLeast(first + ROUND - 1), timeout])) ? 'ok' : 'timeout';
    clearTimeout(timer.id);
  }

  const errors = published.filter((r) => r.error);
  check('every publish succeeded', errors.length === 0, errors.slice(0, 3).map((r) => r.error.message).join('; '));
  check('every publish promise settled exactly once', [...settlements.values()].every((n) => n === 1) && settlements.size === MESSAGES);
  const offsets = published.filter((r) => !r.error).map((r) => r.offset);
  check('every publish got its own offset', new Set(offsets).size === offsets.length);

  const ns = received.map((p) => p.data.n);
  const seen = new Set(ns);
  const lost = MESSAGES - [...seen].filter((n) => n >= 1 && n <= MESSAGES).length;
  const doubled = ns.length - seen.size;
  const got = received.map((p) => p.offset);
  check('the subscriber received every publication', outcome !== 'timeout' && lost === 0, `${received.length} of ${MESSAGES}`);
  check('nothing was doubled', doubled === 0, `${doubled} doubled`);
  check('offsets arrived in order without a hole', got.every((o, i) => i === 0 || o === got[i - 1] + 1));
  check('no gap was reported', gaps.length === 0, JSON.stringify(gaps));
  check('the subscriber resumed its session after each cut', counts.subscriberResumes >= SUBSCRIBER_CUTS_AT.length,
    `${counts.subscriberResumes} resumes`);
  check('the publisher reconnected after each cut', counts.publisherReconnects >= PUBLISHER_CUTS_AT.length + 1,
    `${counts.publisherReconnects} connects`);
  const duplicates = published.filter((r) => r.duplicate).length;
  console.log(`messages sent: ${MESSAGES}; received ${received.length}; lost ${lost}, doubled ${doubled}; ` +
    `connections cut: subscriber ${SUBSCRIBER_CUTS_AT.length}, publisher ${PUBLISHER_CUTS_AT.length}; ` +
    `publishes resent and answered as duplicates: ${duplicates}`);
  subscriber.close();
  publisher.close();
}

try {
  await run();
} catch (err) {
  check('scenario ran to the end', false, err.stack ?? String(err));
}
const failed = checks.filter((ok) => !ok).length;
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
