// The demo chat page: rooms are channels chat:<room>; tether.js does reconnects, resume and dedupe,
// this file only renders. Exposes window.tetherChat for tests and curious developers.
import {TetherClient} from './tether.js';

const DEFAULT_ROOMS = ['lobby', 'random', 'tech'];
const HISTORY_LIMIT = 100;
// Below the server's dedup window (5 min): a resend with the same key can never store a message twice.
const PUBLISH_TIMEOUT_MS = 120_000;
// Client state of a tab that was closed is dropped after this long (the server keeps a session 120 s).
const TAB_STATE_MAX_AGE_MS = 24 * 3600_000;
const ROOM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY = {
  nickname: 'tether-chat:nickname',
  rooms: 'tether-chat:rooms',
  room: 'tether-chat:room',
  tab: 'tether-chat:tab',
  clientPrefix: 'tether-chat:client:',
};

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};

/** Everything the page knows; rooms: name -> Room. */
const chat = {
  client: null,
  nickname: localStorage.getItem(KEY.nickname) ?? '',
  rooms: new Map(),
  current: null,
  everConnected: false,
  reconnectRecovered: 0,   // missed publications recovered since the last reconnect
  indicator: {state: 'connecting', recovered: 0, lost: 0},
  deliveries: [],          // every onPublication call: [channel, offset], for tests
  sockets: [],             // every WebSocket the client opened, for tests
};
window.tetherChat = chat;

class TrackedWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    chat.sockets.push(this);
  }
}

// --- client state in localStorage, one entry per tab ---------------------------------------------
// The tab id lives in sessionStorage (it survives a reload, not a new tab), so that a reload resumes
// its own session and two tabs never take over each other's.

function tabStorage() {
  let tab = sessionStorage.getItem(KEY.tab);
  if (!tab) sessionStorage.setItem(KEY.tab, tab = randomId());
  const key = KEY.clientPrefix + tab;
  pruneOldTabs(key);
  return {
    get: () => JSON.parse(localStorage.getItem(key) ?? 'null')?.value ?? null,
    set: (_, value) => localStorage.setItem(key, JSON.stringify({at: Date.now(), value})),
  };
}

function pruneOldTabs(keep) {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (!k?.startsWith(KEY.clientPrefix) || k === keep) continue;
    const at = JSON.parse(localStorage.getItem(k) ?? '{}')?.at ?? 0;
    if (Date.now() - at > TAB_STATE_MAX_AGE_MS) localStorage.removeItem(k);
  }
}

function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(9));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// --- connection ---------------------------------------------------------------------------------

function start() {
  const storage = tabStorage();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const client = new TetherClient(url, {
    name: 'tether-chat',
    info: {name: chat.nickname},
    WebSocket: TrackedWebSocket,
    storage,
    publishTimeout: PUBLISH_TIMEOUT_MS,
  });
  chat.client = client;
  chat.everConnected = false;
  // A tab with client state is a reload: its rooms resume rather than enter anew.
  const reloading = storage.get() != null;
  client.on('state', ({state}) => {
    if (state === 'connecting') setIndicator('connecting', 'Connecting…');
  });
  client.on('disconnected', ({code, reconnect, delay}) => {
    const when = delay > 1500 ? ` in ${Math.round(delay / 1000)} s` : '';
    if (reconnect) setIndicator('reconnecting', `${chat.everConnected ? 'Connection lost' : 'Cannot reach the server'} · retrying${when}…`);
    else showClosed(code);
  });
  client.on('connected', (e) => {
    const again = chat.everConnected;
    chat.everConnected = true;
    chat.reconnectRecovered = e.recovered;
    if (e.resumed) {
      setIndicator('resumed', recoveredText('Resumed', e.recovered), {recovered: e.recovered});
    } else if (again) {
      setIndicator('reconnected', recoveredText('Reconnected', 0), {recovered: 0});
    } else {
      setIndicator('connected', 'Connected');
    }
  });
  client.on('error', (err) => console.warn('tether:', err));
  for (const name of savedRooms()) openRoom(name, {restoring: reloading});
  showRoom(chat.rooms.has(localStorage.getItem(KEY.room)) ? localStorage.getItem(KEY.room) : savedRooms()[0]);
  client.connect();
}

function recoveredText(what, n) {
  return n === 0 ? `${what} · nothing missed` : `${what} · ${n} message${n === 1 ? '' : 's'} recovered`;
}

function setIndicator(state, text, {recovered, lost} = {}) {
  const ind = $('[data-testid="connection-indicator"]');
  chat.indicator = {state, recovered: recovered ?? 0, lost: lost ?? 0, text};
  ind.dataset.state = state;
  ind.dataset.recovered = String(recovered ?? 0);
  ind.dataset.lost = String(lost ?? 0);
  $('.label', ind).textContent = text;
  $('[data-action="reconnect"]', ind).hidden = state !== 'closed';
}

function showClosed(code) {
  const why = {
    4502: 'This chat was opened in another tab',
    4501: 'Not authorized',
    4503: 'Forbidden',
    4500: 'Protocol error',
  }[code] ?? `Disconnected (${code})`;
  setIndicator('closed', why);
}

function reconnect() {
  if (chat.indicator.state !== 'closed') return;
  // A session taken over belongs to the other tab now: this tab starts its own.
  sessionStorage.setItem(KEY.tab, randomId());
  for (const room of chat.rooms.values()) room.list.remove();
  chat.rooms.clear();
  start();
}

// --- rooms --------------------------------------------------------------------------------------

function savedRooms() {
  try {
    const rooms = JSON.parse(localStorage.getItem(KEY.rooms) ?? 'null');
    if (Array.isArray(rooms) && rooms.length) return rooms.filter((r) => ROOM_NAME.test(r));
  } catch { /* fall through */ }
  return [...DEFAULT_ROOMS];
}

function saveRooms() {
  localStorage.setItem(KEY.rooms, JSON.stringify([...chat.rooms.keys()]));
}

/**
 * Joins a room. Entering a room anew loads its history, then subscribes from the history's last
 * offset, so that nothing is missed or shown twice. A room restored after a reload subscribes at once
 * (tether.js resumes the session or recovers from its stored position) and fills in history beside.
 */
function openRoom(name, {restoring = false} = {}) {
  if (chat.rooms.has(name)) return chat.rooms.get(name);
  const room = {
    name,
    channel: `chat:${name}`,
    sub: null,
    stored: new Map(),   // offset -> message
    order: [],           // stored offsets, ascending
    pending: new Map(),  // mid -> message not yet stored
    online: new Map(),   // client id -> {user, name}
    unread: 0,
    list: el('ol'),
    loaded: false,
  };
  chat.rooms.set(name, room);
  renderRoomList();
  saveRooms();
  if (restoring) {
    subscribe(room);
    loadHistory(room);
  } else {
    loadHistory(room).then((h) => { if (chat.rooms.get(name) === room) subscribe(room, h && {offset: h.offset, epoch: h.epoch}); });
  }
  return room;
}

function subscribe(room, since) {
  room.sub = chat.client.subscribe(room.channel, {
    since: since ?? undefined,
    presence: true,
    onPublication: (p) => {
      chat.deliveries.push([p.channel, p.offset]);
      addStored(room, p);
      if (room !== currentRoom()) {
        room.unread++;
        renderRoomList();
      }
    },
    onSubscribed: (r) => {
      refreshPresence(room);  // joins and leaves while away were not seen
      if (!r.resumed && chat.everConnected && r.missed > 0 && chat.indicator.state === 'reconnected') {
        chat.reconnectRecovered += r.missed;
        setIndicator('reconnected', recoveredText('Reconnected', chat.reconnectRecovered), {recovered: chat.reconnectRecovered});
      }
    },
    onGap: (gap) => {
      if (gap.reason === 'epoch') {
        newEpoch(room);
        addNotice(room, 'The server lost this room’s history (restarted?): messages above are from before', 'gap');
        setIndicator('gap', 'Connected · the server lost this room’s history');
        loadHistory(room);
      } else {
        const n = gap.to - gap.from + 1;
        addNotice(room, `${n} message${n === 1 ? '' : 's'} (${gap.from}–${gap.to}) could not be recovered: no longer in history`, 'gap');
        setIndicator('gap', `Connected · ${n} message${n === 1 ? '' : 's'} could not be recovered`, {lost: n});
      }
    },
    onJoin: (e) => {
      room.online.set(e.client, {user: e.user, name: displayName(e.info?.name, e.user), fresh: true});
      if (room === currentRoom()) renderOnline();
    },
    onLeave: (e) => {
      room.online.delete(e.client);
      if (room === currentRoom()) renderOnline();
    },
    onError: (err) => addNotice(room, `Cannot join: ${err.message}`, 'gap'),
  });
}

async function loadHistory(room) {
  try {
    const h = await chat.client.history(room.channel, {limit: HISTORY_LIMIT});
    if (chat.rooms.get(room.name) !== room) return null;
    for (const p of h.publications) addStored(room, p);
    room.loaded = true;
    if (room === currentRoom()) renderMessages();
    return h;
  } catch (err) {
    addNotice(room, `History unavailable: ${err.message}`, 'gap');
    return null;
  }
}

async function refreshPresence(room) {
  try {
    const {clients} = await chat.client.presence(room.channel);
    room.online = new Map(clients.map((c) => [c.client, {user: c.user, name: displayName(c.info?.name, c.user)}]));
    if (room === currentRoom()) renderOnline();
  } catch { /* shown again on the next connect */ }
}

/** Offsets start over in a new epoch: what is shown stays, above everything that comes now. */
function newEpoch(room) {
  room.stored.clear();
  room.order = [];
}

function leaveRoom(name) {
  const room = chat.rooms.get(name);
  if (!room || chat.rooms.size === 1) return;
  room.sub?.unsubscribe();
  chat.rooms.delete(name);
  saveRooms();
  if (chat.current === name) showRoom(chat.rooms.keys().next().value);
  else renderRoomList();
}

function currentRoom() {
  return chat.rooms.get(chat.current);
}

function showRoom(name) {
  if (!chat.rooms.has(name)) return;
  chat.current = name;
  localStorage.setItem(KEY.room, name);
  const room = currentRoom();
  room.unread = 0;
  $('[data-testid="room-title"]').textContent = `# ${name}`;
  document.title = `#${name} · Tether chat`;
  renderRoomList();
  renderMessages();
  renderOnline();
  $('[data-testid="message-input"]').focus();
}

// --- messages -----------------------------------------------------------------------------------

function addStored(room, p) {
  if (room.stored.has(p.offset)) return;  // history and live overlap after a reload
  const data = p.data && typeof p.data === 'object' ? p.data : {text: String(p.data)};
  let msg = typeof data.mid === 'string' ? room.pending.get(data.mid) : undefined;
  if (msg) {
    room.pending.delete(data.mid);
  } else {
    msg = {
      mid: typeof data.mid === 'string' ? data.mid : undefined,
      name: displayName(data.name, p.from ? p.from.user : 'server'),
      text: data.text != null ? String(data.text) : JSON.stringify(p.data),
      mine: p.from != null && p.from.client === chat.client.clientId,
    };
    msg.el = renderMessage(msg);
  }
  msg.offset = p.offset;
  msg.epoch = p.epoch;
  msg.ts = p.ts;
  setStatus(msg, 'stored');
  room.stored.set(p.offset, msg);
  const i = sortedIndex(room.order, p.offset);
  room.order.splice(i, 0, p.offset);
  const next = room.order[i + 1];
  const before = next != null ? room.stored.get(next).el : room.pending.values().next().value?.el ?? null;
  const stick = isScrolledDown();
  room.list.insertBefore(msg.el, before);
  $('time', msg.el).textContent = formatTime(p.ts);
  if (room === currentRoom() && (stick || msg.mine)) scrollDown();
}

function send(text) {
  const room = currentRoom();
  if (!room || !text.trim()) return;
  const mid = randomId();
  const msg = {mid, name: chat.nickname, text, mine: true, ts: Date.now()};
  msg.el = renderMessage(msg);
  $('time', msg.el).textContent = formatTime(msg.ts);
  room.pending.set(mid, msg);
  room.list.append(msg.el);
  scrollDown();
  publish(room, msg);
}

// The key comes from the message id, so that a retry after a failure cannot store it twice either.
function publish(room, msg) {
  setStatus(msg, 'sending');
  chat.client.publish(room.channel, {text: msg.text, name: msg.name, mid: msg.mid}, {key: `m-${msg.mid}`}).then(
    (r) => {
      if (msg.offset == null) addStored(room, {offset: r.offset, epoch: r.epoch, ts: msg.ts, data: {mid: msg.mid}, from: null});
    },
    (err) => {
      if (msg.offset != null) return;
      setStatus(msg, 'failed', err.message);
      const retry = el('button', {type: 'button', className: 'link retry', textContent: 'retry'});
      retry.onclick = () => { retry.remove(); publish(room, msg); };
      $('.bubble', msg.el).append(' ', retry);
    });
}

function setStatus(msg, status, detail) {
  msg.status = status;
  msg.el.dataset.status = status;
  msg.el.dataset.offset = msg.offset ?? '';
  msg.el.dataset.epoch = msg.epoch ?? '';
  const title = {sending: chat.client.state === 'connected' ? 'sending…' : 'queued: sent when the connection returns',
    stored: `stored (offset ${msg.offset})`, failed: `not sent: ${detail}`}[status];
  $('.status', msg.el).title = title;
}

function renderMessage(msg) {
  const li = el('li', {className: `msg${msg.mine ? ' mine' : ''}`},
    avatar(msg.name),
    el('div', {className: 'bubble'},
      el('div', {className: 'meta'}, el('span', {className: 'author', textContent: msg.name}), el('time')),
      el('div', {className: 'text', textContent: msg.text})),
    el('span', {className: 'status'}));
  li.dataset.testid = 'message';
  li.dataset.mine = String(msg.mine);
  if (msg.mid) li.dataset.mid = msg.mid;
  return li;
}

function addNotice(room, text, kind = '') {
  room.list.append(el('li', {className: `notice ${kind}`, textContent: text}));
  if (room === currentRoom()) scrollDown();
}

function renderMessages() {
  const room = currentRoom();
  const box = $('[data-testid="message-list"]');
  const empty = el('p', {className: 'empty', textContent: room.loaded ? 'No messages yet. Say hi!' : 'Loading…'});
  box.replaceChildren(room.list, empty);
  box.scrollTop = box.scrollHeight;
}

function isScrolledDown() {
  const box = $('[data-testid="message-list"]');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollDown() {
  const box = $('[data-testid="message-list"]');
  box.scrollTop = box.scrollHeight;
}

// --- sidebar ------------------------------------------------------------------------------------

function renderRoomList() {
  const list = $('[data-testid="room-list"]');
  list.replaceChildren(...[...chat.rooms.values()].map((room) => {
    const b = el('button', {type: 'button', title: `channel chat:${room.name}`},
      el('span', {className: 'hash', textContent: '#'}), room.name,
      el('span', {className: 'unread', textContent: room.unread ? String(room.unread) : ''}));
    b.dataset.testid = 'room';
    b.dataset.room = room.name;
    b.onclick = () => showRoom(room.name);
    const li = el('li', {className: room.name === chat.current ? 'active' : ''}, b);
    if (chat.rooms.size > 1) {
      const x = el('button', {type: 'button', className: 'leave', title: `Leave #${room.name}`, textContent: '×'});
      x.onclick = () => leaveRoom(room.name);
      li.append(x);
    }
    return li;
  }));
}

function renderOnline() {
  const room = currentRoom();
  const list = $('[data-testid="online-list"]');
  const people = [...room.online.entries()].sort(([, a], [, b]) => a.name.localeCompare(b.name));
  list.replaceChildren(...people.map(([client, p]) => {
    const li = el('li', {className: p.fresh ? 'fresh' : ''}, avatar(p.name, true), el('span', {textContent: p.name}));
    if (client === chat.client.clientId) li.append(el('span', {className: 'you', textContent: '(you)'}));
    li.dataset.testid = 'online-user';
    li.dataset.client = client;
    p.fresh = false;
    return li;
  }));
  $('[data-testid="online-count"]').textContent = String(people.length);
}

/**
 * A name to show: publications and presence info come from any client, so a name that is not a
 * non-empty string (a number, an object) falls back instead of breaking the page for every reader.
 */
function displayName(name, fallback) {
  if (typeof name === 'string' && name.trim() !== '') return name;
  return typeof fallback === 'string' && fallback !== '' ? fallback : 'anonymous';
}

function avatar(name, small = false) {
  const a = el('span', {className: `avatar${small ? ' small' : ''}`, textContent: (name || '?').trim().charAt(0).toUpperCase()});
  a.style.setProperty('--hue', String(hue(name)));
  return a;
}

function hue(s) {
  let h = 0;
  for (const ch of String(s)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function formatTime(ts) {
  return new Date(ts).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
}

function sortedIndex(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// --- wiring -------------------------------------------------------------------------------------

function askNickname() {
  const dialog = $('[data-testid="nickname-dialog"]');
  const input = $('[data-testid="nickname-input"]');
  input.value = chat.nickname;
  dialog.showModal();
  dialog.onclose = () => {
    const name = input.value.trim().slice(0, 32);
    if (!name) {
      if (!chat.nickname) askNickname();
      return;
    }
    if (name === chat.nickname && chat.client) return;
    chat.nickname = name;
    localStorage.setItem(KEY.nickname, name);
    renderMe();
    // A new name is a new presence entry: end this session (others see a leave) and start another.
    if (chat.client) {
      chat.client.close();
      for (const room of chat.rooms.values()) room.list.remove();
      chat.rooms.clear();
    }
    start();
  };
}

function renderMe() {
  const me = $('[data-testid="nickname"]');
  $('.name', me).textContent = chat.nickname;
  const a = $('.avatar', me);
  a.textContent = chat.nickname.charAt(0).toUpperCase();
  a.style.setProperty('--hue', String(hue(chat.nickname)));
}

$('[data-testid="composer"]').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('[data-testid="message-input"]');
  send(input.value);
  input.value = '';
});
$('[data-testid="room-form"]').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('[data-testid="room-input"]');
  const name = input.value.trim().replace(/^#/, '');
  if (!ROOM_NAME.test(name)) return;
  input.value = '';
  openRoom(name);
  showRoom(name);
});
$('[data-testid="nickname"]').addEventListener('click', askNickname);
$('[data-action="reconnect"]').addEventListener('click', reconnect);

if (chat.nickname) {
  renderMe();
  start();
} else {
  askNickname();
}
