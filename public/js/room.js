// The room page: connection, members, typing, composer with its outbox, scrollback, attention.
import { RoomConnection } from './connection.js';
import { canonicalDisplayName, codePoints, TEXT_MAX } from './rules.js';
import { SearchBox } from './search-box.js';
import * as storage from './storage.js';
import { Timeline } from './timeline.js';
import { Uploads } from './uploads.js';

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 4000;
const PAGE = 50;
const RETRY_REFUSED_MS = 1200;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return /** @type {T} */ (node);
}

const newId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

const room = /** @type {string} */ (document.body.dataset.room);
const baseTitle = document.title;
const ui = {
  log: byId('log'),
  events: /** @type {HTMLOListElement} */ (byId('events')),
  pending: /** @type {HTMLOListElement} */ (byId('pending')),
  logTop: byId('log-top'),
  loadOlder: /** @type {HTMLButtonElement} */ (byId('load-older')),
  pill: /** @type {HTMLButtonElement} */ (byId('new-pill')),
  banner: byId('banner'),
  typing: byId('typing'),
  composer: /** @type {HTMLFormElement} */ (byId('composer')),
  text: /** @type {HTMLTextAreaElement} */ (byId('text')),
  send: /** @type {HTMLButtonElement} */ (byId('send')),
  counter: byId('counter'),
  dmChip: byId('dm-chip'),
  dmName: byId('dm-name'),
  dmCancel: /** @type {HTMLButtonElement} */ (byId('dm-cancel')),
  members: byId('members'),
  memberCount: byId('member-count'),
  onlineCount: byId('online-count'),
  membersPanel: byId('members-panel'),
  membersToggle: /** @type {HTMLButtonElement} */ (byId('members-toggle')),
  nameForm: /** @type {HTMLFormElement} */ (byId('name-form')),
  nameInput: /** @type {HTMLInputElement} */ (byId('name')),
  copyLink: /** @type {HTMLButtonElement} */ (byId('copy-link')),
  alerts: /** @type {HTMLButtonElement} */ (byId('alerts')),
  announcer: byId('announcer'),
  nameDialog: /** @type {HTMLDialogElement} */ (byId('name-dialog')),
  nameDialogForm: /** @type {HTMLFormElement} */ (byId('name-dialog-form')),
  nameDialogInput: /** @type {HTMLInputElement} */ (byId('name-dialog-input')),
  attach: /** @type {HTMLButtonElement} */ (byId('attach')),
  fileInput: /** @type {HTMLInputElement} */ (byId('file-input')),
  uploads: /** @type {HTMLUListElement} */ (byId('uploads')),
  lightbox: /** @type {HTMLDialogElement} */ (byId('lightbox')),
  search: /** @type {HTMLInputElement} */ (byId('search')),
  searchResults: byId('search-results'),
  searchList: /** @type {HTMLOListElement} */ (byId('search-list')),
  searchStatus: byId('search-status'),
  searchMore: /** @type {HTMLButtonElement} */ (byId('search-more')),
  lightboxImage: /** @type {HTMLImageElement} */ (byId('lightbox-image')),
  modeChip: byId('mode-chip'),
  modeText: byId('mode-text'),
  modeCancel: /** @type {HTMLButtonElement} */ (byId('mode-cancel')),
};

const uploads = new Uploads(ui.uploads, room, () => renderCounter());

const state = {
  /** @type {import('./types.js').Member | null} */ me: null,
  /** Latest seq of the room this page has, contiguous from the first welcome. @type {number | null} */
  lastSeq: null,
  /** @type {number | null} */ welcomeSeq: null,
  /** @type {Map<string, import('./types.js').Member>} */ members: new Map(),
  /** @type {import('./types.js').OutboxEntry[]} */ outbox: storage.loadOutbox(room),
  /** @type {Map<string, { name: string, timer: ReturnType<typeof setTimeout> }>} */ typing: new Map(),
  /** @type {import('./types.js').Member | null} */ dmTarget: null,
  hasOlder: false,
  loadingOlder: false,
  lastTypingSent: 0,
  unread: 0,
  /** Who has a role other than member (welcome `roles`, then `role` events). @type {Record<string, 'owner' | 'moderator'>} */
  roles: {},
  /** The message the next one answers, or the own message being edited. @type {import('./types.js').MessageEvent | null} */
  replyTo: null,
  /** @type {import('./types.js').MessageEvent | null} */ editing: null,
};

const timeline = new Timeline(
  ui.log,
  ui.events,
  ui.pending,
  () => {
    ui.pill.hidden = false;
  },
  {
    me: () => state.me,
    canModerate: () => state.me !== null && state.roles[state.me.id] !== undefined,
    nameOf: (id) => state.members.get(id)?.name ?? 'someone who left',
    onAction: (action, message, arg) => messageAction(action, message, arg),
  },
);

const connection = new RoomConnection({
  room,
  name: () => storage.displayName(),
  since: () => state.lastSeq,
  onFrame: handleFrame,
  onState: (s, retryInMs) => {
    ui.banner.hidden = s === 'open' || (s === 'connecting' && state.lastSeq === null);
    ui.banner.textContent =
      s === 'removed'
        ? 'You were removed from this room by its owner or a moderator.'
        : s === 'offline'
          ? 'You are offline. What you write waits here and goes out when the network is back.'
          : s === 'reconnecting'
            ? `Reconnecting…${retryInMs ? ` (retrying in ${Math.ceil(retryInMs / 1000)} s)` : ''}`
            : 'Connecting…';
    document.body.classList.toggle('offline', s !== 'open');
    if (s !== 'open')
      for (const entry of state.outbox) timeline.setPendingStatus(entry.clientMsgId, 'waiting for connection');
  },
});

// ---------------------------------------------------------------- frames from the server

/** @param {import('./types.js').ServerFrame} frame */
function handleFrame(frame) {
  switch (frame.type) {
    case 'welcome':
      return welcome(frame);
    case 'message':
    case 'join':
    case 'leave':
    case 'rename':
    case 'edit':
    case 'delete':
    case 'react':
    case 'topic':
    case 'role':
    case 'kick':
      return applyEvent(frame, true);
    case 'typing':
      return showTyping(frame.member);
    case 'direct':
      return direct(frame);
    case 'error':
      return refused(frame);
  }
}

/** @param {import('./types.js').WelcomeFrame} frame */
function welcome(frame) {
  const resumedFrom = state.lastSeq;
  state.me = frame.you;
  state.welcomeSeq = frame.seq;
  state.members = new Map(frame.members.map((m) => [m.id, m]));
  state.roles = { ...frame.roles };
  // the history shows messages as they are at the welcome's seq
  for (const event of frame.history) applyEvent(event, false, frame.seq);
  timeline.refresh();
  if (state.lastSeq === null || frame.seq > state.lastSeq) state.lastSeq = frame.seq;
  if (resumedFrom === null) {
    const first = frame.history[0];
    state.hasOlder = first !== undefined && first.seq > 1;
    timeline.scrollToBottom();
  } else if (frame.truncated && frame.history[0]) {
    void fillGap(resumedFrom, frame.history[0].seq);
  }
  renderMembers();
  renderLogTop();
  const wanted = storage.displayName();
  if (wanted && wanted !== frame.you.name) connection.send({ type: 'rename', name: wanted });
  if (!wanted) storage.setDisplayName(frame.you.name);
  ui.nameInput.value = storage.displayName();
  flushOutbox();
}

/**
 * @param {import('./types.js').ChatEvent} event
 * @param {boolean} live
 * @param {number} [asOf] the seq a read's messages are as of (live: their own)
 */
function applyEvent(event, live, asOf) {
  if (event.type === 'edit' || event.type === 'delete' || event.type === 'react') {
    if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
    const now = timeline.amend(event);
    if (now && live) announceChange(event);
    return;
  }
  if (event.type === 'role') {
    if (event.role === 'moderator') state.roles[event.member.id] = 'moderator';
    else delete state.roles[event.member.id];
    if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
    timeline.refresh();
    return;
  }
  if (event.type !== 'message' && event.type !== 'join' && event.type !== 'leave' && event.type !== 'rename') {
    // the topic and kicks are shown by the v2 page; a reload shows their effect
    if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
    return;
  }
  const own = state.me !== null && event.type === 'message' && event.from.id === state.me.id;
  if (event.type === 'message' && own && event.clientMsgId) acknowledged(event.clientMsgId);
  const isNew = timeline.addEvent(event, { own, live, asOf: asOf ?? event.seq });
  if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
  if (!isNew || !live) return;
  if (event.type === 'message') {
    clearTyping(event.from.id);
    if (!own) attention(event.from.name, event.text, false);
  } else if (event.type === 'leave') {
    state.members.delete(event.member.id);
    clearTyping(event.member.id);
    renderMembers();
  } else {
    state.members.set(event.member.id, event.member);
    if (state.me && event.member.id === state.me.id) state.me = event.member;
    renderMembers();
  }
}

/** @param {import('./types.js').DirectFrameOut} frame */
function direct(frame) {
  const own = state.me !== null && frame.from.id === state.me.id;
  if (own && frame.clientMsgId) acknowledged(frame.clientMsgId);
  timeline.addDirect(frame, own);
  if (!own) attention(frame.from.name, frame.text, true);
}

/** @param {import('./types.js').ErrorFrameOut} frame */
function refused(frame) {
  const entry = state.outbox.find((e) => e.clientMsgId === frame.clientMsgId);
  if (!entry) {
    timeline.addNotice(frame.message);
    return;
  }
  if (frame.code === 'rate_limited' || frame.code === 'unavailable') {
    timeline.setPendingStatus(entry.clientMsgId, 'slowed down, retrying…');
    setTimeout(() => sendEntry(entry), RETRY_REFUSED_MS);
    return;
  }
  // refused for good (text rules, recipient gone): keep it visible, out of the outbox
  removeFromOutbox(entry.clientMsgId);
  const why = frame.code === 'recipient_offline' ? `${entry.to?.name ?? 'they'} left: not delivered` : frame.message;
  timeline.setPendingStatus(entry.clientMsgId, `not sent: ${why}`, true);
}

/** Scrollback from the HTTP API, older than what is shown. */
async function loadOlder() {
  const first = timeline.firstSeq;
  if (state.loadingOlder || !state.hasOlder || first === null) return;
  state.loadingOlder = true;
  renderLogTop();
  try {
    const asOf = state.lastSeq ?? 0; // the page is read after this: its messages are at least this recent
    const page = await fetchPage(first, PAGE);
    for (const event of page.events) applyEvent(event, false, asOf);
    state.hasOlder = page.hasMore;
  } catch {
    timeline.addNotice('Could not load older messages; scroll up to try again.');
  } finally {
    state.loadingOlder = false;
    renderLogTop();
  }
}

/** After a truncated welcome: page back until the events between `after` and `before` are shown. */
async function fillGap(/** @type {number} */ after, /** @type {number} */ before) {
  let cursor = before;
  while (cursor > after + 1) {
    const asOf = state.lastSeq ?? 0;
    const page = await fetchPage(cursor, 200);
    for (const event of page.events) if (event.seq > after) applyEvent(event, false, asOf);
    const first = page.events[0];
    if (!first || !page.hasMore) break;
    cursor = first.seq;
  }
}

/** Say something to screen readers through the live region. @param {string} text */
function announce(text) {
  ui.announcer.textContent = text;
}

/** @param {number} before @param {number} limit */
async function fetchPage(before, limit) {
  return fetchEvents(`before=${before}&limit=${limit}`);
}

/** A page of scrollback (`before`, `after` or `around`; docs/protocol-notes.md). @param {string} query */
async function fetchEvents(query) {
  const res = await fetch(`/api/rooms/${encodeURIComponent(room)}/messages?${query}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return /** @type {{ events: import('./types.js').ChatEvent[], hasMore: boolean, hasNewer?: boolean }} */ (
    await res.json()
  );
}

/**
 * Show a message of the log, loading the page around it when it is not shown yet (a search
 * result): older than what is shown, it comes with a marker where the events in between are not
 * loaded, which loads them.
 * @param {number} seq
 */
async function jumpTo(seq) {
  if (!timeline.has(seq)) {
    const first = timeline.firstSeq;
    try {
      const asOf = state.lastSeq ?? 0;
      const page = await fetchEvents(`around=${seq}&limit=${PAGE}`);
      for (const event of page.events) applyEvent(event, false, asOf);
      const last = page.events.at(-1)?.seq;
      if (first === null || (page.events[0] && page.events[0].seq < first)) state.hasOlder = page.hasMore;
      if (first !== null && last !== undefined && page.hasNewer && last < first - 1) gapAfter(last, first);
      renderLogTop();
    } catch (err) {
      timeline.addNotice('Could not load that message; try again.');
      console.error('loading around a message failed', err);
      return;
    }
  }
  if (timeline.reveal(seq)) announce('Showing the message found.');
}

/** A marker after `after` where events up to `before` are not loaded; clicking it loads them. */
function gapAfter(/** @type {number} */ after, /** @type {number} */ before) {
  const button = timeline.addGap(after);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const asOf = state.lastSeq ?? 0;
      const page = await fetchEvents(`after=${after}&limit=200`);
      const loaded = page.events.filter((e) => e.seq < before);
      for (const event of loaded) applyEvent(event, false, asOf);
      button.closest('li')?.remove();
      const last = loaded.at(-1)?.seq;
      if (last !== undefined && last < before - 1 && page.hasNewer) gapAfter(last, before);
    } catch (err) {
      button.disabled = false;
      timeline.addNotice('Could not load those messages; try again.');
      console.error('loading between messages failed', err);
    }
  });
}

// ---------------------------------------------------------------- replies, edits, deletion, reactions

/**
 * @param {'reply' | 'edit' | 'delete' | 'react' | 'quote'} action
 * @param {import('./types.js').MessageEvent} message
 * @param {string} [emoji]
 */
function messageAction(action, message, emoji) {
  if (action === 'reply') {
    setMode({ replyTo: message });
  } else if (action === 'edit') {
    setMode({ editing: message });
    ui.text.value = message.text;
    renderCounter();
    autosize();
  } else if (action === 'delete') {
    const whose = state.me && message.from.id === state.me.id ? 'your message' : `${message.from.name}'s message`;
    if (window.confirm(`Delete ${whose}? Everyone will see "message deleted" instead.`)) {
      if (!connection.send({ type: 'delete', id: message.id }))
        timeline.addNotice('Not connected: the message was not deleted.');
    }
  } else if (action === 'react' && emoji) {
    const mine =
      state.me !== null &&
      (message.reactions ?? []).some((r) => r.emoji === emoji && r.members.includes(state.me?.id ?? ''));
    if (!connection.send({ type: 'react', id: message.id, emoji, on: !mine }))
      timeline.addNotice('Not connected: try again.');
  } else if (action === 'quote' && message.replyTo) {
    void showOriginal(message.replyTo.id);
  }
}

/** Show the message a quote is of: loaded already, or within the last pages of scrollback. @param {string} id */
async function showOriginal(id) {
  for (let pages = 0; pages < 10; pages++) {
    const original = timeline.message(id);
    if (original) {
      timeline.reveal(original.seq);
      return;
    }
    if (!state.hasOlder) break;
    await loadOlder();
  }
  timeline.addNotice('The original message is no longer in this room, or too far back to show.');
}

/** Reply or edit mode of the composer (or neither). @param {{ replyTo?: import('./types.js').MessageEvent, editing?: import('./types.js').MessageEvent }} mode */
function setMode({ replyTo, editing }) {
  const wasEditing = state.editing !== null;
  state.replyTo = replyTo ?? null;
  state.editing = editing ?? null;
  if (replyTo) {
    setDmTarget(null);
    ui.modeText.textContent = `Replying to ${replyTo.from.name}: ${replyTo.text.slice(0, 80) || 'a file'}`;
  } else if (editing) {
    setDmTarget(null);
    ui.modeText.textContent = 'Editing your message (Escape cancels)';
  }
  ui.modeChip.hidden = !replyTo && !editing;
  if (wasEditing && !editing) {
    ui.text.value = '';
    renderCounter();
    autosize();
  }
  ui.text.focus();
}

/** Say an edit, deletion or reaction that just happened through the live region. @param {import('./types.js').EditEvent | import('./types.js').DeleteEvent | import('./types.js').ReactEvent} change */
function announceChange(change) {
  if (change.type === 'edit') announce(`${change.from.name} edited a message: ${change.text.slice(0, 200)}`);
  else if (change.type === 'delete') announce(`${change.by.name} deleted a message`);
  else announce(`${change.from.name} ${change.on ? 'reacted with' : 'took back'} ${change.emoji}`);
}

// ---------------------------------------------------------------- outbox

/** @param {string} text */
function submit(text, files = /** @type {import('./types.js').ChatFile[]} */ ([])) {
  /** @type {import('./types.js').OutboxEntry} */
  const entry = { clientMsgId: newId(), text, at: Date.now() };
  if (state.dmTarget) entry.to = state.dmTarget;
  else {
    if (files.length > 0) entry.files = files;
    if (state.replyTo) entry.replyTo = state.replyTo.id;
  }
  state.outbox.push(entry);
  storage.saveOutbox(room, state.outbox);
  timeline.addPending(entry, connection.isOpen ? 'sending…' : 'waiting for connection');
  sendEntry(entry);
}

/** @param {import('./types.js').OutboxEntry} entry */
function sendEntry(entry) {
  if (!state.outbox.includes(entry)) return; // acknowledged meanwhile
  /** @type {import('./types.js').ClientFrame} */
  const frame = entry.to
    ? { type: 'direct', to: entry.to.id, text: entry.text, clientMsgId: entry.clientMsgId }
    : {
        type: 'message',
        text: entry.text,
        clientMsgId: entry.clientMsgId,
        ...(entry.files ? { files: entry.files.map((f) => f.id) } : {}),
        ...(entry.replyTo ? { replyTo: entry.replyTo } : {}),
      };
  if (connection.send(frame)) timeline.setPendingStatus(entry.clientMsgId, 'sending…');
}

/** Everything not acknowledged goes (again) after each welcome; the server stores each clientMsgId once. */
function flushOutbox() {
  for (const entry of state.outbox) {
    timeline.addPending(entry, 'sending…');
    sendEntry(entry);
  }
}

/** @param {string} clientMsgId */
function acknowledged(clientMsgId) {
  removeFromOutbox(clientMsgId);
  timeline.removePending(clientMsgId);
}

/** @param {string} clientMsgId */
function removeFromOutbox(clientMsgId) {
  const before = state.outbox.length;
  state.outbox = state.outbox.filter((e) => e.clientMsgId !== clientMsgId);
  if (state.outbox.length !== before) storage.saveOutbox(room, state.outbox);
}

// ---------------------------------------------------------------- members, typing, attention

function renderMembers() {
  const members = [...state.members.values()].sort((a, b) => a.name.localeCompare(b.name));
  ui.members.replaceChildren(
    ...members.map((m) => {
      const li = document.createElement('li');
      const isMe = state.me !== null && m.id === state.me.id;
      if (isMe) {
        const span = document.createElement('span');
        span.textContent = `${m.name} (you)`;
        li.append(span);
        li.className = 'me';
      } else {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = m.name;
        button.title = `Send ${m.name} a private message`;
        button.addEventListener('click', () => setDmTarget(m));
        li.append(button);
      }
      return li;
    }),
  );
  ui.memberCount.textContent = String(members.length);
  ui.onlineCount.textContent = String(members.length);
  if (state.dmTarget && !state.members.has(state.dmTarget.id)) setDmTarget(null);
}

/** @param {import('./types.js').Member | null} member */
function setDmTarget(member) {
  state.dmTarget = member;
  ui.dmChip.hidden = member === null;
  ui.dmName.textContent = member?.name ?? '';
  ui.text.placeholder = member ? `Private message to ${member.name}…` : 'Write a message…';
  if (member) {
    ui.membersPanel.classList.remove('open');
    ui.membersToggle.setAttribute('aria-expanded', 'false');
    ui.text.focus();
  }
}

/** @param {import('./types.js').Member} member */
function showTyping(member) {
  if (state.me && member.id === state.me.id) return;
  clearTyping(member.id);
  state.typing.set(member.id, { name: member.name, timer: setTimeout(() => clearTyping(member.id), TYPING_SHOW_MS) });
  renderTyping();
}

/** @param {string} memberId */
function clearTyping(memberId) {
  const t = state.typing.get(memberId);
  if (!t) return;
  clearTimeout(t.timer);
  state.typing.delete(memberId);
  renderTyping();
}

function renderTyping() {
  const names = [...state.typing.values()].map((t) => t.name);
  ui.typing.textContent =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing…`
          : 'Several people are typing…';
}

/**
 * A message from someone else: announce it to screen readers; while the tab is hidden count it in
 * the title and, when the user turned alerts on, notify.
 * @param {string} name @param {string} text @param {boolean} isPrivate
 */
function attention(name, text, isPrivate) {
  ui.announcer.textContent = `${isPrivate ? 'Private message from ' : ''}${name}: ${text.slice(0, 200)}`;
  if (!document.hidden) return;
  state.unread++;
  document.title = `(${state.unread}) ${baseTitle}`;
  if (!storage.alertsOn()) return;
  if ('Notification' in window && Notification.permission === 'granted') {
    new Notification(`${name} in #${room}`, { body: text.slice(0, 140), tag: `roomchat-${room}` });
  } else {
    beep();
  }
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 660;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {
    /* no audio */
  }
}

function renderAlerts() {
  const on = storage.alertsOn();
  ui.alerts.setAttribute('aria-pressed', String(on));
  ui.alerts.textContent = on ? 'Alerts on' : 'Alerts off';
}

function renderLogTop() {
  ui.loadOlder.hidden = !state.hasOlder || state.loadingOlder;
  ui.logTop.dataset.state = state.loadingOlder ? 'loading' : state.hasOlder ? 'more' : 'start';
}

function renderCounter() {
  const n = codePoints(ui.text.value);
  const over = n > TEXT_MAX;
  ui.counter.textContent = n > TEXT_MAX - 500 ? `${n} / ${TEXT_MAX}` : '';
  ui.counter.classList.toggle('over', over);
  ui.text.setAttribute('aria-invalid', String(over));
  const files = uploads.ready.length > 0;
  ui.send.disabled = (ui.text.value.trim() === '' && !files) || over || uploads.busy;
}

function autosize() {
  ui.text.style.height = 'auto';
  ui.text.style.height = `${Math.min(ui.text.scrollHeight, 200)}px`;
}

// ---------------------------------------------------------------- user input

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.text.value.trim();
  const files = uploads.ready;
  if ((!text && files.length === 0) || codePoints(text) > TEXT_MAX || uploads.busy) return;
  if (state.editing) {
    const editing = state.editing;
    if (text !== editing.text && !connection.send({ type: 'edit', id: editing.id, text, clientMsgId: newId() })) {
      timeline.addNotice('Not connected: the edit was not sent.');
      return;
    }
    setMode({});
    return;
  }
  submit(text, files);
  if (state.replyTo) setMode({});
  uploads.clear();
  // the others stop showing us as typing when the message arrives: announce the next burst at once
  state.lastTypingSent = 0;
  ui.text.value = '';
  renderCounter();
  autosize();
});

ui.text.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && (state.replyTo || state.editing)) {
    e.preventDefault();
    setMode({});
    return;
  }
  // Up in an empty composer edits one's last message
  if (e.key === 'ArrowUp' && ui.text.value === '' && state.me && !state.dmTarget) {
    const last = timeline.lastMessageOf(state.me.id);
    if (last) {
      e.preventDefault();
      messageAction('edit', last);
    }
    return;
  }
  // Enter that confirms an IME composition (Japanese, Chinese input) is not a send
  if (e.key !== 'Enter' || e.isComposing || e.keyCode === 229) return;
  if (e.shiftKey) return;
  e.preventDefault();
  ui.composer.requestSubmit();
});

ui.text.addEventListener('input', () => {
  renderCounter();
  autosize();
  const now = Date.now();
  if (ui.text.value.trim() && now - state.lastTypingSent > TYPING_SEND_EVERY_MS && !state.dmTarget) {
    if (connection.send({ type: 'typing' })) state.lastTypingSent = now;
  }
});

ui.attach.addEventListener('click', () => ui.fileInput.click());
ui.fileInput.addEventListener('change', () => {
  if (ui.fileInput.files) uploads.add(ui.fileInput.files);
  ui.fileInput.value = '';
});
// a pasted screenshot, or files dropped on the conversation
ui.text.addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  e.preventDefault();
  uploads.add(files);
});
const conversation = /** @type {HTMLElement} */ (ui.composer.closest('.conversation'));
conversation.addEventListener('dragover', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  conversation.classList.add('dropping');
});
conversation.addEventListener('dragleave', () => conversation.classList.remove('dropping'));
conversation.addEventListener('drop', (e) => {
  conversation.classList.remove('dropping');
  if (!e.dataTransfer?.files.length) return;
  e.preventDefault();
  uploads.add(e.dataTransfer.files);
});
// an image opens full size; Escape, the close button or a click beside it closes it
ui.log.addEventListener('click', (e) => {
  const link = /** @type {HTMLElement} */ (e.target).closest('a.image');
  if (!(link instanceof HTMLAnchorElement)) return;
  e.preventDefault();
  ui.lightboxImage.src = link.href;
  ui.lightboxImage.alt = link.querySelector('img')?.alt ?? '';
  ui.lightbox.showModal();
});
ui.lightbox.addEventListener('click', (e) => {
  if (e.target === ui.lightbox) ui.lightbox.close();
});

ui.modeCancel.addEventListener('click', () => setMode({}));

ui.dmCancel.addEventListener('click', () => {
  setDmTarget(null);
  ui.text.focus();
});

ui.log.addEventListener('scroll', () => {
  if (ui.log.scrollTop < 80) void loadOlder();
  if (timeline.isNearBottom()) ui.pill.hidden = true;
});
ui.loadOlder.addEventListener('click', () => void loadOlder());
ui.pill.addEventListener('click', () => {
  timeline.scrollToBottom();
  ui.pill.hidden = true;
});

ui.nameForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const checked = canonicalDisplayName(ui.nameInput.value);
  if (!checked.ok) return;
  const name = checked.value;
  storage.setDisplayName(name);
  if (state.me && name !== state.me.name) connection.send({ type: 'rename', name });
});

ui.copyLink.addEventListener('click', async () => {
  const link = `${location.origin}/?room=${encodeURIComponent(room)}`;
  try {
    await navigator.clipboard.writeText(link);
    ui.copyLink.textContent = 'Link copied';
  } catch {
    window.prompt('Copy this link:', link);
  }
  setTimeout(() => {
    ui.copyLink.textContent = 'Copy link';
  }, 2000);
});

ui.alerts.addEventListener('click', async () => {
  const on = !storage.alertsOn();
  storage.setAlerts(on);
  if (on && 'Notification' in window && Notification.permission === 'default') await Notification.requestPermission();
  renderAlerts();
});

ui.membersToggle.addEventListener('click', () => {
  const open = ui.membersPanel.classList.toggle('open');
  ui.membersToggle.setAttribute('aria-expanded', String(open));
});

const searchBox = new SearchBox({
  room,
  input: ui.search,
  panel: ui.searchResults,
  list: ui.searchList,
  status: ui.searchStatus,
  more: ui.searchMore,
  onPick: (seq) => void jumpTo(seq),
});
// Ctrl/Cmd+K anywhere, or `/` outside a text field, goes to search
document.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLElement && e.target.closest('input, textarea, [contenteditable="true"]');
  if (
    ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') ||
    (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey)
  ) {
    e.preventDefault();
    searchBox.focus();
  }
});
ui.search.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') ui.text.focus();
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  state.unread = 0;
  document.title = baseTitle;
});

window.addEventListener('online', () => connection.retryNow());
window.addEventListener('offline', () => connection.wentOffline());

// ---------------------------------------------------------------- start

storage.rememberRoom(room);
renderAlerts();
renderCounter();
for (const entry of state.outbox) timeline.addPending(entry, 'waiting for connection');

if (storage.displayName()) {
  connection.connect();
} else {
  // pick a name once; it is kept for every room
  ui.nameDialog.showModal();
  ui.nameDialogInput.focus();
  ui.nameDialogForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = canonicalDisplayName(ui.nameDialogInput.value);
    if (name.ok) storage.setDisplayName(name.value);
    ui.nameDialog.close();
  });
  ui.nameDialog.addEventListener('close', () => {
    connection.connect();
    ui.text.focus();
  });
}
