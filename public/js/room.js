// The room page: connection, members, typing, composer with its outbox, scrollback, attention.
import { RoomConnection } from './connection.js';
import { pickEmoji } from './emoji-picker.js';
import {
  canonicalDisplayName,
  codePoints,
  EMOJI_MAX_BYTES,
  isChoiceOf,
  isEmoji,
  MENTIONS_MAX,
  nameKey,
  TEXT_MAX,
  TOPIC_MAX,
} from './rules.js';
import { SearchBox } from './search-box.js';
import * as storage from './storage.js';
import { fullTime, Timeline } from './timeline.js';
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
  dmPin: /** @type {HTMLInputElement} */ (byId('dm-pin')),
  mentionList: /** @type {HTMLUListElement} */ (byId('mention-list')),
  members: byId('members'),
  memberCount: byId('member-count'),
  onlineCount: byId('online-count'),
  membersPanel: byId('members-panel'),
  membersToggle: /** @type {HTMLButtonElement} */ (byId('members-toggle')),
  membersClose: /** @type {HTMLButtonElement} */ (byId('members-close')),
  nameError: byId('name-error'),
  nameForm: /** @type {HTMLFormElement} */ (byId('name-form')),
  nameInput: /** @type {HTMLInputElement} */ (byId('name')),
  copyLink: /** @type {HTMLButtonElement} */ (byId('copy-link')),
  alerts: /** @type {HTMLButtonElement} */ (byId('alerts')),
  alertsLabel: byId('alerts-label'),
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
  emojiDialog: /** @type {HTMLDialogElement} */ (byId('emoji-dialog')),
  emojiSlot: byId('emoji-slot'),
  topic: byId('topic'),
  topicEdit: /** @type {HTMLButtonElement} */ (byId('topic-edit')),
  topicDialog: /** @type {HTMLDialogElement} */ (byId('topic-dialog')),
  topicForm: /** @type {HTMLFormElement} */ (byId('topic-form')),
  topicInput: /** @type {HTMLInputElement} */ (byId('topic-input')),
  topicCounter: byId('topic-counter'),
  memberMenu: byId('member-menu'),
  kickDialog: /** @type {HTMLDialogElement} */ (byId('kick-dialog')),
  kickForm: /** @type {HTMLFormElement} */ (byId('kick-form')),
  kickTitle: byId('kick-title'),
  removed: byId('removed'),
  removedTitle: byId('removed-title'),
  removedText: byId('removed-text'),
  rejoin: /** @type {HTMLButtonElement} */ (byId('rejoin')),
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
  topic: '',
  /** Why this page is out of the room (a kick or a ban), once it is. @type {{ by: string | null, until: string } | null} */
  removal: null,
  /** The member whose menu is open, and who is being kicked. @type {import('./types.js').Member | null} */
  menuFor: null,
  /** @type {import('./types.js').Member | null} */ kicking: null,
  /** Unread messages that mention this member (or are private to it) while the tab is hidden. */
  unreadMentions: 0,
  /** The autocomplete of `@`: the members offered and the one chosen by the arrows. @type {{ start: number, members: import('./types.js').Member[], active: number } | null} */
  mention: null,
  /** The name last asked for in the name form. @type {string | null} */ renaming: null,
  /** The time of the newest private message shown. */
  lastDirectAt: 0,
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
    onReplyPrivately: (from) => {
      const member = state.members.get(from.id);
      if (member) setDmTarget(member);
      else timeline.addNotice(`${from.name} is not in the room now: a private message cannot reach them.`);
    },
  },
);

const connection = new RoomConnection({
  room,
  name: () => storage.displayName(),
  since: () => state.lastSeq,
  onFrame: handleFrame,
  onState: (s, retryInMs) => {
    if (s === 'removed') return showRemoved();
    ui.banner.hidden = s === 'open' || (s === 'connecting' && state.lastSeq === null);
    ui.banner.textContent =
      s === 'offline'
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
  setTopic(frame.topic ?? '');
  // the history shows messages as they are at the welcome's seq
  for (const event of frame.history) applyEvent(event, false, frame.seq);
  // private conversations of this member, kept by the server; after a reconnect, those newer than
  // the last one seen arrived meanwhile and are news (alert, announcement)
  const lastDirectAt = state.lastDirectAt;
  for (const d of frame.directs ?? []) direct(d, resumedFrom !== null && Date.parse(d.ts) > lastDirectAt);
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
  // the server may have made it `Alice (2)` (someone present is Alice): keep that
  if (wanted && !isChoiceOf(frame.you.name, wanted)) connection.send({ type: 'rename', name: wanted });
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
  if (event.type === 'role' || event.type === 'topic' || event.type === 'kick') {
    const isNew = timeline.addEvent(event, { own: false, live, asOf: asOf ?? event.seq });
    if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
    if (!live || !isNew) return; // a read: the welcome's topic and roles are the present ones
    if (event.type === 'role') {
      if (event.role === 'moderator') state.roles[event.member.id] = 'moderator';
      else delete state.roles[event.member.id];
      timeline.refresh();
      renderMembers();
      announce(
        `${event.by.name} made ${event.member.name} ${event.role === 'moderator' ? 'a moderator' : 'a member again'}`,
      );
    } else if (event.type === 'topic') {
      setTopic(event.text);
      announce(event.text ? `${event.by.name} set the topic: ${event.text}` : `${event.by.name} cleared the topic`);
    } else if (state.me && event.member.id === state.me.id) {
      state.removal = { by: event.by.name, until: event.until };
    } else {
      announce(`${event.by.name} removed ${event.member.name}`);
    }
    return;
  }
  const own = state.me !== null && event.type === 'message' && event.from.id === state.me.id;
  if (event.type === 'message' && own && event.clientMsgId) acknowledged(event.clientMsgId);
  const isNew = timeline.addEvent(event, { own, live, asOf: asOf ?? event.seq });
  if (state.lastSeq !== null && event.seq > state.lastSeq && live) state.lastSeq = event.seq;
  if (!isNew || !live) return;
  if (event.type === 'message') {
    clearTyping(event.from.id);
    if (!own)
      attention(event.from.name, event.text, {
        isPrivate: false,
        mentionsMe: state.me !== null && (event.mentions ?? []).includes(state.me.id),
      });
  } else if (event.type === 'leave') {
    state.members.delete(event.member.id);
    clearTyping(event.member.id);
    renderMembers();
  } else {
    state.members.set(event.member.id, event.member);
    if (state.me && event.member.id === state.me.id) {
      state.me = event.member;
      ui.nameError.textContent = '';
      ui.nameInput.removeAttribute('aria-invalid');
    }
    renderMembers();
  }
}

/** @param {import('./types.js').DirectFrameOut} frame @param {boolean} [live] */
function direct(frame, live = true) {
  state.lastDirectAt = Math.max(state.lastDirectAt, Date.parse(frame.ts) || 0);
  const own = state.me !== null && frame.from.id === state.me.id;
  if (own && frame.clientMsgId) acknowledged(frame.clientMsgId);
  if (!timeline.addDirect(frame, own, live)) return;
  if (!own && live) attention(frame.from.name, frame.text, { isPrivate: true, mentionsMe: false });
}

/** @param {import('./types.js').ErrorFrameOut} frame */
function refused(frame) {
  if (frame.code === 'banned') {
    state.removal = { by: state.removal?.by ?? null, until: frame.until ?? new Date().toISOString() };
    return; // the close that follows shows it
  }
  const entry = state.outbox.find((e) => e.clientMsgId === frame.clientMsgId);
  if (!entry && frame.code === 'name_taken') {
    // the name form says why; the name stays what it was
    ui.nameError.textContent = `Someone here is already called “${state.renaming ?? 'that'}”: choose another name.`;
    ui.nameInput.setAttribute('aria-invalid', 'true');
    if (state.me) storage.setDisplayName(state.me.name);
    return;
  }
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
 * @param {'reply' | 'edit' | 'delete' | 'react' | 'quote' | 'picker'} action
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
  } else if (action === 'picker') {
    pickEmoji(ui.emojiDialog, ui.emojiSlot, (chosen) => {
      if (isEmoji(chosen)) messageAction('react', message, chosen);
      else timeline.addNotice(`${chosen} cannot be a reaction (at most ${EMOJI_MAX_BYTES} bytes): choose another.`);
    }).catch((err) => {
      timeline.addNotice('The emoji picker could not be loaded; the quick reactions still work.');
      console.error('loading the emoji picker failed', err);
    });
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

// ---------------------------------------------------------------- mentions

/**
 * The ids of the members present whose `@Name` the text holds, in the order they appear: `@`
 * at the start or after a space or punctuation (so `x@bob.com` is nobody), the whole name (not
 * the start of a longer word), the longest names first (`@Alice (2)` is not also `@Alice`).
 * @param {string} text
 */
function mentionedIn(text) {
  const lower = nameKey(text);
  const others = [...state.members.values()]
    .filter((m) => !(state.me && m.id === state.me.id))
    .sort((a, b) => b.name.length - a.name.length);
  /** @type {Array<[number, number, string]>} start, end, id */
  const found = [];
  for (const m of others) {
    const name = nameKey(m.name);
    for (let i = lower.indexOf(`@${name}`); i !== -1; i = lower.indexOf(`@${name}`, i + 1)) {
      const end = i + 1 + name.length;
      if (/[\p{L}\p{N}\p{M}_.+-]/u.test(lower.slice(Math.max(0, i - 1), i))) continue;
      if (/[\p{L}\p{N}\p{M}]/u.test(lower.slice(end, end + 1))) continue;
      if (found.some(([s, e]) => i < e && end > s)) continue; // inside a longer name's mention
      found.push([i, end, m.id]);
      break;
    }
  }
  return found
    .sort((a, b) => a[0] - b[0])
    .slice(0, MENTIONS_MAX)
    .map(([, , id]) => id);
}

/** The `@word` being typed just before the caret, if any. */
function mentionQuery() {
  const caret = ui.text.selectionStart;
  if (caret !== ui.text.selectionEnd) return null;
  const before = ui.text.value.slice(0, caret);
  const match = /(?:^|\s)@([^\s@]{0,32})$/u.exec(before);
  if (!match) return null;
  return { start: caret - /** @type {string} */ (match[1]).length - 1, query: nameKey(match[1] ?? '') };
}

/** Offer the members whose name starts with (or holds) what follows `@`. */
function suggestMentions() {
  const typed = state.dmTarget ? null : mentionQuery();
  const members = typed
    ? [...state.members.values()]
        .filter((m) => !(state.me && m.id === state.me.id) && nameKey(m.name).includes(typed.query))
        .sort(
          (a, b) =>
            Number(!nameKey(a.name).startsWith(typed.query)) - Number(!nameKey(b.name).startsWith(typed.query)) ||
            a.name.localeCompare(b.name),
        )
        .slice(0, 8)
    : [];
  if (!typed || members.length === 0) return closeMentions();
  state.mention = { start: typed.start, members, active: 0 };
  renderMentions();
}

function renderMentions() {
  const m = state.mention;
  if (!m) return;
  ui.mentionList.replaceChildren(
    ...m.members.map((member, i) => {
      const li = document.createElement('li');
      li.id = `mention-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === m.active));
      li.textContent = member.name;
      // pick on pointer down, before the textarea loses the focus
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        pickMention(i);
      });
      return li;
    }),
  );
  ui.mentionList.hidden = false;
  ui.text.setAttribute('aria-controls', 'mention-list');
  ui.text.setAttribute('aria-activedescendant', `mention-${m.active}`);
}

function closeMentions() {
  state.mention = null;
  ui.mentionList.hidden = true;
  ui.text.removeAttribute('aria-controls');
  ui.text.removeAttribute('aria-activedescendant');
}

/** Arrows move in the list, Enter or Tab picks, Escape closes it. @param {KeyboardEvent} e @returns {boolean} handled */
function mentionKey(e) {
  const m = /** @type {NonNullable<typeof state.mention>} */ (state.mention);
  if (e.isComposing || e.keyCode === 229) return false; // the IME's keys
  if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') return false;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    m.active = (m.active + (e.key === 'ArrowDown' ? 1 : m.members.length - 1)) % m.members.length;
    renderMentions();
  } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.isComposing) {
    pickMention(m.active);
  } else if (e.key === 'Escape') {
    closeMentions();
  } else {
    return false;
  }
  e.preventDefault();
  return true;
}

/** Put `@Name ` in place of the `@…` being typed. @param {number} index */
function pickMention(index) {
  const member = state.mention?.members[index];
  const typed = mentionQuery(); // where the `@…` is now (the caret may have moved)
  if (!member || !typed) return closeMentions();
  const value = ui.text.value;
  const end = ui.text.selectionStart;
  const inserted = `@${member.name} `;
  ui.text.value = value.slice(0, typed.start) + inserted + value.slice(end);
  const caret = typed.start + inserted.length;
  ui.text.setSelectionRange(caret, caret);
  closeMentions();
  renderCounter();
  announce(`${member.name} will be mentioned`);
}

/** The member menu's "Mention": `@Name ` at the caret. @param {import('./types.js').Member} member */
function insertMention(member) {
  setDmTarget(null);
  const value = ui.text.value;
  const at = ui.text.selectionStart ?? value.length;
  const space = at > 0 && !/\s/.test(value[at - 1] ?? '') ? ' ' : '';
  ui.text.value = `${value.slice(0, at)}${space}@${member.name} ${value.slice(at)}`;
  const caret = at + space.length + member.name.length + 2;
  ui.text.focus();
  ui.text.setSelectionRange(caret, caret);
  renderCounter();
  closeMobileDrawer();
}

ui.text.addEventListener('blur', () => closeMentions());
ui.text.addEventListener('click', () => suggestMentions());
// the caret moved along the text: offer what is before it now
ui.text.addEventListener('keyup', (e) => {
  if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) suggestMentions();
});

// ---------------------------------------------------------------- outbox

/** @param {string} text */
function submit(text, files = /** @type {import('./types.js').ChatFile[]} */ ([])) {
  /** @type {import('./types.js').OutboxEntry} */
  const entry = { clientMsgId: newId(), text, at: Date.now() };
  if (state.dmTarget) entry.to = state.dmTarget;
  else {
    if (files.length > 0) entry.files = files;
    if (state.replyTo) entry.replyTo = state.replyTo.id;
    const mentions = mentionedIn(text);
    if (mentions.length > 0) entry.mentions = mentions;
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
        ...(entry.mentions ? { mentions: entry.mentions } : {}),
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

/** The role a member has here, for the member list and the menus. @param {string} id @returns {'owner' | 'moderator' | 'member'} */
const roleOf = (id) => state.roles[id] ?? 'member';
const iModerate = () => state.me !== null && roleOf(state.me.id) !== 'member';

function renderMembers() {
  const members = [...state.members.values()].sort((a, b) => a.name.localeCompare(b.name));
  // a menu open stays open (and keeps the focus) through the list's rebuild
  const menuFor = state.menuFor;
  const active = document.activeElement;
  const focusedItem = ui.memberMenu.contains(active)
    ? [...ui.memberMenu.children].indexOf(/** @type {Element} */ (active))
    : -1;
  const nameFocused =
    active instanceof HTMLElement && active.classList.contains('member-name')
      ? active.closest('li')?.dataset.id
      : undefined;
  closeMemberMenu(false);
  ui.members.replaceChildren(
    ...members.map((m) => {
      const li = document.createElement('li');
      li.className = 'member';
      li.dataset.id = m.id;
      const isMe = state.me !== null && m.id === state.me.id;
      const name = document.createElement(isMe ? 'span' : 'button');
      name.className = 'member-name';
      name.textContent = m.name;
      name.title = m.name;
      if (name instanceof HTMLButtonElement) {
        name.type = 'button';
        name.setAttribute('aria-expanded', 'false');
        name.setAttribute('aria-controls', 'member-menu');
        name.addEventListener('click', () => openMemberMenu(m, name));
      }
      // one row (dot, name, role, "you"); the member's menu opens under it
      const row = document.createElement('div');
      row.className = 'member-row';
      row.append(name);
      const role = roleOf(m.id);
      if (role !== 'member') row.append(tag(`role ${role}`, role === 'owner' ? 'owner' : 'mod', `(${role})`));
      if (isMe) {
        li.classList.add('me');
        row.append(tag('you', '(you)'));
      }
      li.append(row);
      return li;
    }),
  );
  ui.memberCount.textContent = String(members.length);
  ui.onlineCount.textContent = String(members.length);
  if (state.dmTarget && !state.members.has(state.dmTarget.id)) setDmTarget(null);
  renderTopic();
  if (menuFor && state.members.has(menuFor.id)) {
    const opener = ui.members.querySelector(`li[data-id="${CSS.escape(menuFor.id)}"] button.member-name`);
    if (opener instanceof HTMLButtonElement)
      openMemberMenu(/** @type {import('./types.js').Member} */ (state.members.get(menuFor.id)), opener, focusedItem);
  } else if (nameFocused) focusMember(nameFocused);
}

/** Put the focus on a member's name in the list (or the composer when they are gone). @param {string} id */
function focusMember(id) {
  const name = ui.members.querySelector(`li[data-id="${CSS.escape(id)}"] .member-name`);
  if (name instanceof HTMLButtonElement) name.focus();
  else ui.text.focus();
}

/** A small label; `spoken` replaces its text for screen readers. @param {string} className @param {string} text @param {string} [spoken] */
function tag(className, text, spoken) {
  const span = document.createElement('span');
  span.className = `tag ${className}`;
  span.textContent = text;
  if (spoken) {
    span.setAttribute('aria-hidden', 'true');
    const said = document.createElement('span');
    said.className = 'sr-only';
    said.textContent = spoken;
    const both = document.createElement('span');
    both.append(span, said);
    return both;
  }
  return span;
}

/**
 * A member's menu, under their name: a private message, a mention, and what one's role allows
 * (moderator role, removal). Escape, a click elsewhere or a choice closes it.
 * @param {import('./types.js').Member} member @param {HTMLButtonElement} opener
 * @param {number} [focusIndex] the item to focus (-1: leave the focus where it is)
 */
function openMemberMenu(member, opener, focusIndex = 0) {
  const wasOpen = state.menuFor?.id === member.id;
  closeMemberMenu(false);
  if (wasOpen && focusIndex === 0) return;
  state.menuFor = member;
  opener.setAttribute('aria-expanded', 'true');
  const menu = ui.memberMenu;
  menu.setAttribute('aria-label', `Actions for ${member.name}`);
  /** @param {string} text @param {() => void} run @param {string} [className] */
  const item = (text, run, className) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = className ?? 'ghost';
    b.textContent = text;
    b.addEventListener('click', () => {
      closeMemberMenu(true);
      run();
    });
    return b;
  };
  const items = [
    item('Send a private message', () => setDmTarget(member)),
    item('Mention', () => insertMention(member)),
  ];
  const myRole = state.me ? roleOf(state.me.id) : 'member';
  const theirRole = roleOf(member.id);
  if (myRole === 'owner' && theirRole !== 'owner') {
    const next = theirRole === 'moderator' ? 'member' : 'moderator';
    items.push(
      item(next === 'moderator' ? 'Make moderator' : 'Remove moderator role', () => {
        if (!connection.send({ type: 'role', member: member.id, role: next }))
          timeline.addNotice('Not connected: try again.');
      }),
    );
  }
  if (myRole === 'owner' ? theirRole !== 'owner' : myRole === 'moderator' && theirRole === 'member')
    items.push(item('Remove from room…', () => openKick(member), 'ghost danger-text'));
  menu.replaceChildren(...items);
  opener.closest('li')?.append(menu);
  menu.hidden = false;
  if (focusIndex >= 0) (items[focusIndex] ?? items[0])?.focus();
}

/** @param {boolean} refocus give the focus back to the name the menu was for */
function closeMemberMenu(refocus) {
  if (ui.memberMenu.hidden) return;
  const id = state.menuFor?.id;
  state.menuFor = null;
  ui.memberMenu.hidden = true;
  const opener = ui.members.querySelector(`li[data-id="${CSS.escape(id ?? '')}"] button.member-name`);
  opener?.setAttribute('aria-expanded', 'false');
  if (refocus && opener instanceof HTMLElement) opener.focus();
}

/** @param {import('./types.js').Member} member */
function openKick(member) {
  state.kicking = member;
  ui.kickTitle.textContent = `Remove ${member.name} from #${room}`;
  ui.kickForm.reset();
  ui.kickDialog.returnValue = ''; // Escape must not repeat the last choice
  ui.kickDialog.showModal();
}

function renderTopic() {
  ui.topic.textContent = state.topic;
  ui.topic.title = state.topic;
  ui.topic.hidden = state.topic === '';
  ui.topicEdit.hidden = !iModerate();
  ui.topicEdit.textContent = state.topic ? 'Edit topic' : 'Add a topic';
}

/** @param {string} text */
function setTopic(text) {
  state.topic = text;
  renderTopic();
}

const inertWhenRemoved = /** @type {HTMLElement[]} */ ([
  ...document.querySelectorAll('.topbar, .body, #search-results'),
]);

/** Kicked or banned: the page says so and until when, and tries nothing until the user asks. */
function showRemoved() {
  const removal = state.removal ?? { by: null, until: new Date().toISOString() };
  const until = Date.parse(removal.until);
  const by = removal.by ? ` by ${removal.by}` : ' by its owner or a moderator';
  const wait = until - Date.now();
  ui.removedText.textContent =
    wait > 1000
      ? `You were removed${by}. You can come back after ${fullTime(removal.until)}.`
      : `You were removed${by}. You can rejoin now.`;
  ui.rejoin.disabled = wait > 1000;
  if (wait > 1000 && wait < 2 ** 31)
    setTimeout(() => {
      ui.rejoin.disabled = false;
      ui.removedText.textContent = `You were removed${by}. You can rejoin now.`;
    }, wait);
  ui.banner.hidden = true;
  closeMemberMenu(false);
  for (const dialog of document.querySelectorAll('dialog')) if (dialog.open) dialog.close();
  ui.removed.hidden = false;
  document.body.classList.add('removed');
  // what is behind the panel can be neither seen nor reached
  for (const part of inertWhenRemoved) part.inert = true;
  ui.removedTitle.focus();
}

/** @param {import('./types.js').Member | null} member */
function setDmTarget(member) {
  state.dmTarget = member;
  ui.dmChip.hidden = member === null;
  ui.dmName.textContent = member?.name ?? '';
  if (!member) ui.dmPin.checked = false;
  document.body.classList.toggle('private-mode', member !== null);
  ui.text.placeholder = member ? `Private message to ${member.name}…` : 'Write a message…';
  if (member) {
    closeMobileDrawer();
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
 * the title and alert: for every message when alerts are on for all, and always for a message
 * that mentions this member or is private to it. An alert is a notification where the browser
 * allows them, else a short sound.
 * @param {string} name @param {string} text @param {{ isPrivate: boolean, mentionsMe: boolean }} how
 */
function attention(name, text, { isPrivate, mentionsMe }) {
  const prefix = isPrivate ? 'Private message from ' : mentionsMe ? 'You were mentioned by ' : '';
  ui.announcer.textContent = `${prefix}${name}: ${text.slice(0, 200)}`;
  if (!document.hidden) return;
  state.unread++;
  if (isPrivate || mentionsMe) state.unreadMentions++;
  renderTitle();
  if (!(isPrivate || mentionsMe || storage.alertsOn())) return;
  if (notificationsAllowed()) {
    const title = isPrivate
      ? `${name} (private) in #${room}`
      : mentionsMe
        ? `${name} mentioned you in #${room}`
        : `${name} in #${room}`;
    new Notification(title, { body: text.slice(0, 140), tag: `roomchat-${room}` });
  } else {
    beep();
  }
}

const notificationsAllowed = () => 'Notification' in window && Notification.permission === 'granted';

function renderTitle() {
  const mentions = state.unreadMentions > 0 ? '@ ' : '';
  document.title = state.unread > 0 ? `${mentions}(${state.unread}) ${baseTitle}` : baseTitle;
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

/**
 * Alerts for every message, or only for mentions and private messages (always on). Where the
 * browser refuses notifications the alert is a sound, and the button says so.
 */
function renderAlerts() {
  const all = storage.alertsOn();
  const sound = !notificationsAllowed();
  ui.alertsLabel.textContent = `${sound ? 'Sound' : 'Alerts'}: ${all ? 'all' : 'mentions'}`;
  ui.alerts.title =
    (all ? 'Alerts for every message' : 'Alerts only for mentions and private messages') +
    (sound
      ? `. ${'Notification' in window && Notification.permission === 'denied' ? 'Notifications are blocked for this site, so' : 'Without notifications'} an alert is a short sound.`
      : '. Press to change.');
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
  // a private message ends private mode, unless the user pinned it
  if (state.dmTarget && !ui.dmPin.checked) setDmTarget(null);
  uploads.clear();
  // the others stop showing us as typing when the message arrives: announce the next burst at once
  state.lastTypingSent = 0;
  ui.text.value = '';
  renderCounter();
  autosize();
});

ui.text.addEventListener('keydown', (e) => {
  if (state.mention && mentionKey(e)) return;
  if (e.key === 'Escape' && (state.replyTo || state.editing)) {
    e.preventDefault();
    setMode({});
    return;
  }
  if (e.key === 'Escape' && state.dmTarget) {
    e.preventDefault();
    setDmTarget(null);
    announce('Private mode ended: messages go to the room.');
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
  suggestMentions();
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

// the keyboard reaches every message's actions: in the conversation, Up and Down move from
// message to message (Home, End: the first, the last shown), and Tab goes into its actions
ui.log.addEventListener('keydown', (e) => {
  if (!['ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key) || e.altKey || e.ctrlKey || e.metaKey) return;
  const from = /** @type {HTMLElement} */ (e.target);
  if (from !== ui.log && !from.matches('li.msg')) return;
  const items = /** @type {HTMLElement[]} */ ([...ui.log.querySelectorAll('#events > li.msg, #pending > li.msg')]);
  if (items.length === 0) return;
  const at = items.indexOf(from);
  const last = items.length - 1;
  const to =
    e.key === 'Home'
      ? 0
      : e.key === 'End' || at === -1
        ? last
        : Math.max(0, Math.min(last, at + (e.key === 'ArrowUp' ? -1 : 1)));
  e.preventDefault();
  const item = /** @type {HTMLElement} */ (items[to]);
  item.tabIndex = -1;
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: 'nearest' });
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
  if (!checked.ok) {
    ui.nameError.textContent = `That name cannot be used: ${checked.reason}.`;
    ui.nameInput.setAttribute('aria-invalid', 'true');
    return;
  }
  const name = checked.value;
  ui.nameError.textContent = '';
  ui.nameInput.removeAttribute('aria-invalid');
  storage.setDisplayName(name);
  state.renaming = name;
  if (state.me && name !== state.me.name) connection.send({ type: 'rename', name });
});

/** Copy the room's link; the button says it worked for 2 s. @param {HTMLButtonElement} button */
async function copyLink(button) {
  const link = `${location.origin}/?room=${encodeURIComponent(room)}`;
  const text = button.querySelector('.label') ?? button;
  const label = text.textContent;
  try {
    await navigator.clipboard.writeText(link);
    text.textContent = 'Link copied';
    announce('The link to this room is copied.');
  } catch {
    window.prompt('Copy this link:', link);
  }
  setTimeout(() => {
    text.textContent = label;
  }, 2000);
}
ui.copyLink.addEventListener('click', () => void copyLink(ui.copyLink));
byId('invite').addEventListener('click', (e) => void copyLink(/** @type {HTMLButtonElement} */ (e.currentTarget)));

ui.alerts.addEventListener('click', async () => {
  const all = !storage.alertsOn();
  storage.setAlerts(all);
  renderAlerts();
  // the browser may ask; until it is answered (or if it never is) alerts are a sound
  if (all && 'Notification' in window && Notification.permission === 'default') {
    await Notification.requestPermission();
    renderAlerts();
  }
});

ui.topicEdit.addEventListener('click', () => {
  ui.topicInput.value = state.topic;
  renderTopicCounter();
  ui.topicDialog.returnValue = '';
  ui.topicDialog.showModal();
});
for (const cancel of document.querySelectorAll('dialog .dialog-cancel'))
  cancel.addEventListener('click', () => cancel.closest('dialog')?.close(''));
function renderTopicCounter() {
  const n = codePoints(ui.topicInput.value.trim());
  ui.topicCounter.textContent = `${n} / ${TOPIC_MAX}`;
  ui.topicInput.setAttribute('aria-invalid', String(n > TOPIC_MAX));
}
ui.topicInput.addEventListener('input', renderTopicCounter);
ui.topicDialog.addEventListener('close', () => {
  if (ui.topicDialog.returnValue !== 'save') return;
  const text = ui.topicInput.value.trim();
  if (codePoints(text) > TOPIC_MAX) return;
  if (text !== state.topic && !connection.send({ type: 'topic', text }))
    timeline.addNotice('Not connected: the topic was not changed.');
});
ui.kickDialog.addEventListener('close', () => {
  const member = state.kicking;
  state.kicking = null;
  if (member) focusMember(member.id);
  if (ui.kickDialog.returnValue !== 'kick' || !member) return;
  const minutes = Number(new FormData(ui.kickForm).get('minutes') ?? 0);
  if (!connection.send({ type: 'kick', member: member.id, minutes }))
    timeline.addNotice('Not connected: nobody was removed.');
});
ui.memberMenu.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    e.preventDefault();
    closeMemberMenu(true);
  }
});
document.addEventListener('click', (e) => {
  const target = /** @type {Node} */ (e.target);
  if (
    !ui.memberMenu.hidden &&
    !ui.memberMenu.contains(target) &&
    !(target instanceof Element && target.closest('.member-name'))
  )
    closeMemberMenu(false);
});
ui.rejoin.addEventListener('click', () => {
  for (const part of inertWhenRemoved) part.inert = false;
  ui.removed.hidden = true;
  document.body.classList.remove('removed');
  state.removal = null;
  connection.rejoin();
  ui.text.focus();
});

// on a phone the member list is a drawer: its button, its × and a tap beside it close it
ui.membersToggle.addEventListener('click', () => {
  const open = ui.membersPanel.classList.toggle('open');
  ui.membersToggle.setAttribute('aria-expanded', String(open));
  if (open) ui.membersClose.focus();
});
function closeMobileDrawer(refocus = false) {
  if (!ui.membersPanel.classList.contains('open')) return;
  ui.membersPanel.classList.remove('open');
  ui.membersToggle.setAttribute('aria-expanded', 'false');
  if (refocus) ui.membersToggle.focus();
}
ui.membersClose.addEventListener('click', () => closeMobileDrawer(true));
document.addEventListener('pointerdown', (e) => {
  const target = /** @type {Node} */ (e.target);
  if (
    ui.membersPanel.classList.contains('open') &&
    !ui.membersPanel.contains(target) &&
    !ui.membersToggle.contains(target)
  )
    closeMobileDrawer();
});
ui.membersPanel.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && ui.memberMenu.hidden) closeMobileDrawer(true);
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
  state.unreadMentions = 0;
  renderTitle();
});

window.addEventListener('online', () => connection.retryNow());
// a narrower window wraps the draft onto more lines
window.addEventListener('resize', () => autosize());
window.addEventListener('offline', () => connection.wentOffline());

// ---------------------------------------------------------------- start

storage.rememberRoom(room);
renderAlerts();
renderCounter();
for (const entry of state.outbox) timeline.addPending(entry, 'waiting for connection');

if (storage.displayName()) {
  connection.connect();
  ui.text.focus();
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
