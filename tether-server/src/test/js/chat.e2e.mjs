// End-to-end test of the chat page in a real headless Chromium (Debian's /usr/bin/chromium driven
// by playwright-core): two people chat, one loses the network from the browser side, both keep
// typing, the network returns, and nothing is lost or doubled.
//
//   TETHER_URL=http://127.0.0.1:18080 node chat.e2e.mjs
//
// Environment: TETHER_URL (required; http://host:port, or the ws:// URL of /ws), TETHER_API_KEY
// (when the server has one), CHROMIUM (default /usr/bin/chromium), TETHER_SCREENSHOT_DIR (where
// chat.png and admin.png go; default tether-server/target/e2e). Exits non-zero on any failure.
import {chromium} from 'playwright-core';
import {mkdirSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BASE = baseUrl(process.env.TETHER_URL);
const API_KEY = process.env.TETHER_API_KEY ?? '';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = resolve(process.env.TETHER_SCREENSHOT_DIR ?? join(here, '../../../target/e2e'));
const WAIT_MS = 20_000;
const WHOLE_TEST_MS = 180_000;
const ONLINE_MESSAGES_EACH = 3;
const OFFLINE_MESSAGES_FROM_B = 5;
const FROZEN_MESSAGES_FROM_A = 3;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NETWORK_ONLINE = {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1};
const NETWORK_OFFLINE = {...NETWORK_ONLINE, offline: true};

const checks = [];
let step = 'starting';  // the phase of the scenario, named in a failure
const pages = {};       // name -> page, for screenshots when something fails

/** Records one verdict; failures are summed up at the end rather than stopping the run. */
function check(name, ok, detail = '') {
  checks.push({name, ok});
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}

function baseUrl(raw) {
  if (!raw) {
    console.error('TETHER_URL is not set: start a server and run TETHER_URL=http://127.0.0.1:18080 node chat.e2e.mjs');
    process.exit(2);
  }
  const u = new URL(raw);
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    u.protocol = u.protocol === 'ws:' ? 'http:' : 'https:';
    u.pathname = '/';
  }
  return u.origin;
}

// --- page helpers -------------------------------------------------------------------------------

const INDICATOR = '[data-testid="connection-indicator"]';
const MESSAGES = '[data-testid="message-list"] [data-testid="message"]';

async function openChat(browser, nickname) {
  const context = await browser.newContext({viewport: {width: 1280, height: 760}});
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[${nickname}] page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') console.log(`[${nickname}] console: ${msg.text()}`); });
  await page.goto(`${BASE}/`);
  await page.getByTestId('nickname-input').fill(nickname);
  await page.getByTestId('nickname-save').click();
  await page.waitForSelector(`${INDICATOR}[data-state="connected"]`, {timeout: WAIT_MS});
  pages[nickname] = page;
  return {context, page, nickname};
}

async function joinRoom({page}, room) {
  await page.getByTestId('room-input').fill(room);
  await page.getByTestId('room-join').click();
  await page.waitForSelector(`[data-testid="room-title"]:text-is("# ${room}")`, {timeout: WAIT_MS});
  // Subscribed: our own presence entry is listed.
  await page.waitForFunction((channel) => window.tetherChat.client.subscription(channel)?.state === 'subscribed',
    `chat:${room}`, {timeout: WAIT_MS});
}

async function say({page}, text) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('send-button').click();
}

/** The rendered message list: [{offset, status, text, mine}] in page order. */
async function messages({page}) {
  return page.$$eval(MESSAGES, (items) => items.map((li) => ({
    offset: li.dataset.offset ? Number(li.dataset.offset) : null,
    status: li.dataset.status,
    text: li.querySelector('.text').textContent,
    mine: li.dataset.mine === 'true',
  })));
}

async function waitForStored({page, nickname}, count) {
  try {
    await page.waitForFunction(({selector, n}) =>
      [...document.querySelectorAll(selector)].filter((li) => li.dataset.status === 'stored').length >= n,
    {selector: MESSAGES, n: count}, {timeout: WAIT_MS});
  } catch (err) {
    const got = await messages({page});
    throw new Error(`${nickname}: waited for ${count} stored messages, have ${JSON.stringify(got)}`, {cause: err});
  }
}

/** Offsets the client handed to onPublication for the channel, in delivery order. */
async function deliveries({page}, channel) {
  return page.evaluate((ch) => window.tetherChat.deliveries.filter(([c]) => c === ch).map(([, o]) => o), channel);
}

/** Open WebSocket connections, from /metrics (open even when the server has an API key). */
async function serverConnections() {
  const res = await fetch(`${BASE}/metrics`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('tether_connections '));
  if (!line) throw new Error('/metrics has no tether_connections gauge');
  return Number(line.split(' ')[1]);
}

/**
 * Takes the page offline with a drop the server sees at once. Chromium's offline emulation freezes
 * an open WebSocket rather than closing it (not even a close frame gets out), so the socket is closed
 * from the page first, with the page's JavaScript stopped on a breakpoint right after close():
 * the client cannot reconnect before the network is gone. Returns the CDP session.
 */
async function dropNetwork({context, page}) {
  const before = await serverConnections();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Debugger.enable');
  const paused = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
  const closed = page.evaluate(() => {
    for (const s of window.tetherChat.sockets) if (s.readyState === WebSocket.OPEN) s.close(3001, 'e2e: network lost');
    debugger;  // eslint-disable-line no-debugger
  });
  await paused;
  await waitUntil('the server sees the connection gone', async () => (await serverConnections()) <= before - 1);
  check('the server sees the connection gone', true, `${before} -> ${await serverConnections()} connections`);
  await cdp.send('Network.emulateNetworkConditions', NETWORK_OFFLINE);
  await cdp.send('Debugger.resume');
  await closed;
  await cdp.send('Debugger.disable');
  return cdp;
}

async function waitUntil(what, condition, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));  // polling interval of a condition wait, not a synchronisation sleep
  }
}

function duplicates(values) {
  const seen = new Set();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}

const isIncreasing = (xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]);
const isContiguous = (xs) => xs.every((x, i) => i === 0 || x === xs[i - 1] + 1);

// --- the scenario -------------------------------------------------------------------------------

async function run(browser) {
  const adminContext = await browser.newContext({viewport: {width: 1280, height: 900}});
  if (API_KEY) await adminContext.addInitScript((key) => sessionStorage.setItem('tether-admin:key', key), API_KEY);
  const admin = await adminContext.newPage();
  pages.admin = admin;
  admin.on('pageerror', (err) => console.log(`[admin] page error: ${err.message}`));
  await admin.goto(`${BASE}/admin.html`);

  step = 'opening two chat pages';
  const ada = await openChat(browser, 'Ada');
  const bob = await openChat(browser, 'Bob');
  step = 'joining a room';
  const room = `e2e-${Date.now().toString(36)}`;
  const channel = `chat:${room}`;
  await joinRoom(ada, room);
  await joinRoom(bob, room);
  for (const [me, other] of [[ada, bob], [bob, ada]]) {
    await me.page.waitForSelector(`[data-testid="online-list"] [data-testid="online-user"]:has-text("${other.nickname}")`, {timeout: WAIT_MS});
  }
  check('both see each other in the online list', true);

  step = 'chatting online';
  const sent = [];  // {by, text}
  for (let i = 1; i <= ONLINE_MESSAGES_EACH; i++) {
    for (const who of [ada, bob]) {
      const text = `${who.nickname} says hello #${i}`;
      await say(who, text);
      sent.push({by: who.nickname, text});
    }
  }
  await waitForStored(ada, sent.length);
  await waitForStored(bob, sent.length);
  const firstA = await messages(ada);
  const firstB = await messages(bob);
  check('online exchange: both show every message once, stored, in the same order',
    firstA.length === sent.length && JSON.stringify(firstA.map((m) => [m.offset, m.text])) === JSON.stringify(firstB.map((m) => [m.offset, m.text])) &&
    sent.every(({text}) => firstA.filter((m) => m.text === text).length === 1) && firstA.every((m) => m.status === 'stored'),
    `Ada ${JSON.stringify(firstA.map((m) => m.offset))}, Bob ${JSON.stringify(firstB.map((m) => m.offset))}`);

  step = 'Ada goes offline';
  const cdp = await dropNetwork(ada);
  await ada.page.waitForSelector(`${INDICATOR}[data-state="reconnecting"]`, {timeout: WAIT_MS});
  // Waited for, not sampled: the old socket may still be CLOSING, or a reconnect attempt (random
  // delay from 0 ms) CONNECTING until the offline network fails it a moment later.
  check('Ada\'s socket is closed in the browser',
    await ada.page.waitForFunction(() => window.tetherChat.sockets.every((s) => s.readyState === WebSocket.CLOSED),
      null, {timeout: WAIT_MS}).then(() => true, () => false));
  check('Ada is offline: navigator.onLine is false', !(await ada.page.evaluate(() => navigator.onLine)));
  const adaDeliveredBeforeOffline = (await deliveries(ada, channel)).length;

  step = 'Bob chats while Ada is offline';
  for (let i = 1; i <= OFFLINE_MESSAGES_FROM_B; i++) {
    const text = `Bob, while Ada is away #${i}`;
    await say(bob, text);
    sent.push({by: 'Bob', text});
  }
  await waitForStored(bob, sent.length);
  const offlineText = 'Ada typed this while offline';
  await say(ada, offlineText);
  sent.push({by: 'Ada', text: offlineText});
  const pending = (await messages(ada)).find((m) => m.text === offlineText);
  check('Ada\'s offline message waits as "sending"', pending?.status === 'sending', `status ${pending?.status}`);
  check('Ada receives nothing while offline', (await deliveries(ada, channel)).length === adaDeliveredBeforeOffline);
  check('Bob does not have Ada\'s offline message yet', !(await messages(bob)).some((m) => m.text === offlineText));

  step = 'Ada comes back online';
  await cdp.send('Network.emulateNetworkConditions', NETWORK_ONLINE);
  await ada.page.waitForSelector(`${INDICATOR}[data-state="resumed"]`, {timeout: WAIT_MS});
  const recovered = Number(await ada.page.getAttribute(INDICATOR, 'data-recovered'));
  const label = await ada.page.textContent(`${INDICATOR} .label`);
  check(`Ada's indicator shows the resume with ${OFFLINE_MESSAGES_FROM_B} messages recovered`,
    recovered === OFFLINE_MESSAGES_FROM_B, `"${label}"`);
  await waitForStored(ada, sent.length);
  await waitForStored(bob, sent.length);

  // Bob's network goes away under his open socket, with offline emulation alone. Chromium then
  // freezes the socket; the client closes it on the 'offline' event. Whether that close still reaches
  // the server is up to Chromium: if not, the server holds a half-open connection until Bob's client
  // returns and takes the session over (4502 to the old one). Either way nothing may be lost or doubled.
  step = 'Bob\'s network goes away';
  const connectionsBeforeOffline = await serverConnections();
  const bobCdp = await bob.context.newCDPSession(bob.page);
  await bobCdp.send('Network.emulateNetworkConditions', NETWORK_OFFLINE);
  await bob.page.waitForSelector(`${INDICATOR}[data-state="reconnecting"]`, {timeout: WAIT_MS});
  console.log(`note: the server has ${await serverConnections()} of ${connectionsBeforeOffline} connections after Bob went offline`);
  const bobDeliveredBeforeOffline = (await deliveries(bob, channel)).length;
  for (let i = 1; i <= FROZEN_MESSAGES_FROM_A; i++) {
    const text = `Ada, while Bob is frozen #${i}`;
    await say(ada, text);
    sent.push({by: 'Ada', text});
  }
  await waitForStored(ada, sent.length);
  const frozenText = 'Bob typed this with his network frozen';
  await say(bob, frozenText);
  sent.push({by: 'Bob', text: frozenText});
  check('Bob receives nothing while offline', (await deliveries(bob, channel)).length === bobDeliveredBeforeOffline);

  step = 'Bob comes back online';
  await bobCdp.send('Network.emulateNetworkConditions', NETWORK_ONLINE);
  await bob.page.waitForSelector(`${INDICATOR}[data-state="resumed"]`, {timeout: WAIT_MS});
  const bobRecovered = Number(await bob.page.getAttribute(INDICATOR, 'data-recovered'));
  check(`Bob's indicator shows the resume with ${FROZEN_MESSAGES_FROM_A} messages recovered`,
    bobRecovered === FROZEN_MESSAGES_FROM_A, `"${await bob.page.textContent(`${INDICATOR} .label`)}"`);
  await waitForStored(ada, sent.length);
  await waitForStored(bob, sent.length);

  step = 'comparing';
  // Nothing lost, nothing doubled: in the pages, and in what the client delivered.
  const finalA = await messages(ada);
  const finalB = await messages(bob);
  const summary = {};
  for (const [who, list] of [['Ada', finalA], ['Bob', finalB]]) {
    const offsets = list.map((m) => m.offset);
    const texts = list.map((m) => m.text);
    const lost = sent.filter(({text}) => !texts.includes(text));
    const doubled = [...new Set([...duplicates(texts), ...duplicates(offsets).map(String)])];
    summary[who] = {received: list.length, lost: lost.length, doubled: doubled.length};
    check(`${who} shows every message exactly once`, lost.length === 0 && doubled.length === 0,
      `${list.length} shown, lost ${JSON.stringify(lost.map((m) => m.text))}, doubled ${JSON.stringify(doubled)}`);
    check(`${who}'s offsets are in order with no hole`, isIncreasing(offsets) && isContiguous(offsets), JSON.stringify(offsets));
    check(`${who}'s messages are all stored`, list.every((m) => m.status === 'stored'));
    const delivered = await deliveries(who === 'Ada' ? ada : bob, channel);
    check(`${who}'s client delivered each publication once, in order`,
      isIncreasing(delivered) && duplicates(delivered).length === 0, JSON.stringify(delivered));
  }
  check('both pages show the same ordered list',
    JSON.stringify(finalA.map((m) => [m.offset, m.text])) === JSON.stringify(finalB.map((m) => [m.offset, m.text])));
  const bobMissedTexts = sent.filter((m) => m.text.startsWith('Bob, while Ada is away')).map((m) => m.text);
  check('Ada shows Bob\'s offline messages once each, in the order he sent them',
    JSON.stringify(finalA.filter((m) => bobMissedTexts.includes(m.text)).map((m) => m.text)) === JSON.stringify(bobMissedTexts));
  check('Bob has Ada\'s offline message exactly once', finalB.filter((m) => m.text === offlineText).length === 1);
  check('Ada has Bob\'s frozen-network message exactly once', finalA.filter((m) => m.text === frozenText).length === 1);

  step = 'screenshots';
  mkdirSync(SCREENSHOT_DIR, {recursive: true});
  await ada.page.screenshot({path: join(SCREENSHOT_DIR, 'chat.png'), animations: 'disabled'});
  // The dashboard has caught up with the end of the scenario.
  await admin.waitForFunction(({ch, n}) => window.tetherAdmin.samples.length >= 3 &&
    window.tetherAdmin.stats?.channels.some((c) => c.channel === ch && c.offset === n && c.subscribers === 2),
  {ch: channel, n: sent.length}, {timeout: WAIT_MS});
  await admin.screenshot({path: join(SCREENSHOT_DIR, 'admin.png'), fullPage: true, animations: 'disabled'});
  const adminRow = await admin.$(`[data-testid="channel-row"][data-channel="${channel}"]`);
  check('the dashboard lists the room\'s channel', adminRow != null);
  console.log(`screenshots: ${join(SCREENSHOT_DIR, 'chat.png')}, ${join(SCREENSHOT_DIR, 'admin.png')}`);

  // Leave as a person closing the chat would: sessions end now instead of lingering in presence.
  for (const who of [ada, bob]) {
    await who.page.evaluate(() => window.tetherChat.client.close());
    await who.page.waitForFunction(() => window.tetherChat.sockets.every((s) => s.readyState === WebSocket.CLOSED), null, {timeout: WAIT_MS});
  }

  const byAda = sent.filter((m) => m.by === 'Ada').length;
  console.log(`messages sent: ${sent.length} (Ada ${byAda}, Bob ${sent.length - byAda}); ` +
    `received by Ada ${summary.Ada.received}, by Bob ${summary.Bob.received}; ` +
    `lost ${summary.Ada.lost + summary.Bob.lost}, doubled ${summary.Ada.doubled + summary.Bob.doubled}`);
}

/** What each page showed when the scenario failed: indicator, sockets, screenshot. */
async function failureReport() {
  mkdirSync(SCREENSHOT_DIR, {recursive: true});
  for (const [name, page] of Object.entries(pages)) {
    try {
      const state = await page.evaluate(() => ({
        indicator: document.querySelector('[data-testid="connection-indicator"]')?.dataset,
        sockets: window.tetherChat?.sockets.map((s) => s.readyState),
        client: window.tetherChat?.client.state,
      }));
      const file = join(SCREENSHOT_DIR, `failure-${name}.png`);
      await page.screenshot({path: file});
      console.log(`[${name}] ${JSON.stringify(state)}; screenshot ${file}`);
    } catch (err) {
      console.log(`[${name}] no report: ${err.message}`);
    }
  }
  try {
    console.log(`server: ${await serverConnections()} connections`);
  } catch (err) {
    console.log(`server: unreachable (${err.message})`);
  }
}

const watchdog = setTimeout(() => {
  console.log(`FAIL the whole test took longer than ${WHOLE_TEST_MS} ms`);
  process.exit(1);
}, WHOLE_TEST_MS);
watchdog.unref();

console.log(`chat e2e against ${BASE} with ${CHROMIUM}`);
const browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS});
try {
  await run(browser);
} catch (err) {
  check('scenario ran to the end', false, `failed while ${step}: ${err.stack ?? err}`);
  await failureReport();
} finally {
  await browser.close();
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
