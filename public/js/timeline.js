// The conversation as a list in the DOM: every item placed by its order key (an event's seq; a
// direct message sits just after the event it followed), each seq at most once, consecutive
// messages of one member grouped. User text only ever goes in as text.

import { renderMarkdown } from './markdown.js';
import { formatSize } from './uploads.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;

/** @param {string} iso */
export function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'full', timeStyle: 'short' });
}

/** @param {string} iso */
export function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Reactions offered on every message, one click each. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/**
 * What the timeline asks of the page to show a message's actions.
 * @typedef {{
 *   me: () => import('./types.js').Member | null,
 *   canModerate: () => boolean,
 *   nameOf: (id: string) => string,
 *   onAction: (action: 'reply' | 'edit' | 'delete' | 'react' | 'quote' | 'picker', message: import('./types.js').MessageEvent, arg?: string) => void,
 *   onReplyPrivately: (from: import('./types.js').Member) => void,
 * }} MessageView
 */

/**
 * A message shown, as it is now, and the seq its state is as of: an edit, delete or react event
 * with a seq at or below it is already in that state (a read shows messages as they are now).
 * @typedef {{ event: import('./types.js').MessageEvent, item: HTMLElement, asOf: number }} Shown
 */

export class Timeline {
  /** @type {HTMLElement} */ #scroller;
  /** @type {HTMLOListElement} */ #list;
  /** @type {HTMLOListElement} */ #pendingList;
  /** @type {Map<number, HTMLElement>} */ #bySeq = new Map();
  /** @type {Map<string, HTMLElement>} */ #pending = new Map();
  #directs = 0;
  /** Long messages the reader unfolded: they stay so when redrawn. @type {Set<string>} */
  #expanded = new Set();
  /** @type {Set<string>} */ #directIds = new Set();
  /** @type {() => void} */ #onNewBelow;
  /** @type {MessageView} */ #view;
  /** @type {Map<string, Shown>} */ #messages = new Map();
  /**
   * Changes of messages not shown yet (a page holding them is on its way): applied when they are
   * shown, if newer than what the page shows. Bounded: the oldest ids go first.
   * @type {Map<string, Array<import('./types.js').EditEvent | import('./types.js').DeleteEvent | import('./types.js').ReactEvent>>}
   */
  #early = new Map();

  /**
   * @param {HTMLElement} scroller the scrolling container
   * @param {HTMLOListElement} list logged events and direct messages
   * @param {HTMLOListElement} pendingList messages not acknowledged yet, always last
   * @param {() => void} onNewBelow a message arrived while the reader is scrolled up
   * @param {MessageView} view
   */
  constructor(scroller, list, pendingList, onNewBelow, view) {
    this.#view = view;
    this.#scroller = scroller;
    this.#list = list;
    this.#pendingList = pendingList;
    this.#onNewBelow = onNewBelow;
    // a reader at the bottom stays there when the view changes size (rotation, keyboard, composer)
    let atBottom = true;
    scroller.addEventListener('scroll', () => {
      atBottom = this.isNearBottom();
    });
    new ResizeObserver(() => {
      if (atBottom) this.scrollToBottom();
    }).observe(scroller);
  }

  has(/** @type {number} */ seq) {
    return this.#bySeq.has(seq);
  }

  /** Lowest seq shown, or null. */
  get firstSeq() {
    let min = null;
    for (const seq of this.#bySeq.keys()) if (min === null || seq < min) min = seq;
    return min;
  }

  get lastSeq() {
    let max = null;
    for (const seq of this.#bySeq.keys()) if (max === null || seq > max) max = seq;
    return max;
  }

  isNearBottom() {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }

  /**
   * Show a logged event once, in seq order (the kinds this page shows).
   * @param {Extract<import('./types.js').ChatEvent, { type: 'message' | 'join' | 'leave' | 'rename' | 'topic' | 'role' | 'kick' }>} event
   * @param {{ own: boolean, live: boolean, asOf?: number }} how asOf: the seq the message's state
   *   is as of (a read's: the room's seq when it was read; live: its own)
   * @returns {boolean} false when it was shown already
   */
  addEvent(event, { own, live, asOf = event.seq }) {
    if (this.#bySeq.has(event.seq)) return false;
    const item = event.type === 'message' ? this.#messageItem(event, own, asOf) : this.#systemItem(event);
    item.dataset.order = String(event.seq);
    this.#bySeq.set(event.seq, item);
    this.#place(item, event.seq, live, own);
    return true;
  }

  /**
   * A direct message, once: live, after the latest event shown when it arrived; kept (a
   * welcome's `directs`), after the last event shown that is older than it.
   * @param {import('./types.js').DirectFrameOut} frame @param {boolean} own @param {boolean} live
   * @returns {boolean} false when it was shown already
   */
  addDirect(frame, own, live) {
    if (this.#directIds.has(frame.id)) return false;
    this.#directIds.add(frame.id);
    const item = this.#messageItem(
      { type: 'message', room: '', seq: 0, id: frame.id, from: frame.from, text: frame.text, ts: frame.ts },
      own,
      null,
    );
    item.classList.add('direct');
    const label = el('span', 'private', own ? `private to ${frame.to.name}` : 'private to you');
    item.querySelector('.meta')?.append(label);
    if (!own) {
      const bar = el('div', 'msg-actions');
      bar.setAttribute('role', 'group');
      bar.setAttribute('aria-label', `Actions on the private message of ${frame.from.name}`);
      const reply = /** @type {HTMLButtonElement} */ (el('button', 'ghost', 'Reply privately'));
      reply.type = 'button';
      reply.addEventListener('click', () => this.#view.onReplyPrivately(frame.from));
      bar.append(reply);
      item.append(bar);
    }
    item.dataset.direct = 'true';
    let after = this.lastSeq ?? 0;
    if (!live) {
      const at = Date.parse(frame.ts);
      after = 0;
      for (const [seq, shown] of this.#bySeq) if (Number(shown.dataset.at) <= at && seq > after) after = seq;
      if (after === 0) after = Math.max(0, (this.firstSeq ?? 1) - 1);
    }
    const order = after + 0.5 + ++this.#directs / 1e6;
    item.dataset.order = String(order);
    this.#place(item, order, live, own);
    return true;
  }

  /** A message sent but not acknowledged. @param {import('./types.js').OutboxEntry} entry @param {string} status */
  addPending(entry, status) {
    let item = this.#pending.get(entry.clientMsgId);
    if (!item) {
      item = el('li', 'msg own pending');
      const meta = el('div', 'meta');
      meta.append(el('span', 'status'));
      if (entry.to) meta.append(el('span', 'private', `private to ${entry.to.name}`));
      item.append(meta);
      if (entry.text) item.append(el('div', 'text', entry.text));
      if (entry.files?.length) item.append(filesList(entry.files));
      item.dataset.clientMsgId = entry.clientMsgId;
      this.#pending.set(entry.clientMsgId, item);
      this.#pendingList.append(item);
      this.scrollToBottom();
    }
    this.setPendingStatus(entry.clientMsgId, status);
  }

  /** @param {string} clientMsgId @param {string} status @param {boolean} [failed] */
  setPendingStatus(clientMsgId, status, failed = false) {
    const item = this.#pending.get(clientMsgId);
    if (!item) return;
    const label = item.querySelector('.status');
    if (label) label.textContent = status;
    item.classList.toggle('failed', failed);
  }

  /** @param {string} clientMsgId */
  removePending(clientMsgId) {
    this.#pending.get(clientMsgId)?.remove();
    this.#pending.delete(clientMsgId);
  }

  /**
   * Scroll a logged event into view, marked as the one looked for, and focus it (so a screen
   * reader reads it). @param {number} seq @returns {boolean} false when it is not shown
   */
  reveal(seq) {
    const item = this.#bySeq.get(seq);
    if (!item) return false;
    for (const old of this.#list.querySelectorAll('.found')) old.classList.remove('found');
    item.classList.add('found');
    item.tabIndex = -1;
    item.scrollIntoView({ block: 'center' });
    item.focus({ preventScroll: true });
    return true;
  }

  /**
   * A marker just after `after`, where the events that follow are not loaded yet.
   * @param {number} after @returns {HTMLButtonElement} its button, which loads them
   */
  addGap(after) {
    const item = el('li', 'system gap');
    const button = /** @type {HTMLButtonElement} */ (el('button', 'ghost', 'Load the messages in between'));
    button.type = 'button';
    item.append(button);
    item.dataset.order = String(after + 0.5);
    this.#place(item, after + 0.5, false, false);
    return button;
  }

  /** @param {string} text */
  addNotice(text) {
    const item = el('li', 'system notice', text);
    item.dataset.order = String((this.lastSeq ?? 0) + 0.9);
    this.#list.append(item);
    if (this.isNearBottom()) this.scrollToBottom();
  }

  /**
   * Insert in order; keep the reader's view: at the bottom it follows, scrolled up it stays
   * (a pill announces what came below), and items added above do not move what is on screen.
   * @param {HTMLElement} item @param {number} order @param {boolean} live @param {boolean} own
   */
  #place(item, order, live, own) {
    const wasNearBottom = this.isNearBottom();
    const heightBefore = this.#scroller.scrollHeight;
    const topBefore = this.#scroller.scrollTop;
    let before = null;
    for (let node = this.#list.lastElementChild; node; node = node.previousElementSibling) {
      if (Number(/** @type {HTMLElement} */ (node).dataset.order) <= order) break;
      before = node;
    }
    this.#list.insertBefore(item, before);
    const next = /** @type {HTMLElement | null} */ (item.nextElementSibling);
    this.#regroup(item);
    if (next) this.#regroup(next);
    this.#foldPresence(item.previousElementSibling);
    this.#foldPresence(item);
    this.#foldPresence(next);
    if (before !== null) {
      // inserted above the end (scrollback, a gap filled): keep what the reader looks at in place
      this.#scroller.scrollTop = topBefore + (this.#scroller.scrollHeight - heightBefore);
    } else if (own || wasNearBottom) {
      this.scrollToBottom();
    } else if (live && item.classList.contains('msg')) {
      this.#onNewBelow();
    }
  }

  /**
   * A message follows another of the same member within minutes: show it without the header. The
   * first item of a day (local time) carries the day's separator.
   */
  #regroup(/** @type {HTMLElement} */ item) {
    const prev = /** @type {HTMLElement | null} */ (item.previousElementSibling);
    let prevDated = prev;
    while (prevDated && !prevDated.dataset.at)
      prevDated = /** @type {HTMLElement | null} */ (prevDated.previousElementSibling);
    const day = item.dataset.at ? dayOf(Number(item.dataset.at)) : '';
    const newDay = day !== '' && (prevDated?.dataset.at === undefined || dayOf(Number(prevDated.dataset.at)) !== day);
    item.classList.toggle('new-day', newDay);
    if (newDay) item.dataset.day = day;
    else delete item.dataset.day;
    const grouped =
      item.classList.contains('msg') &&
      prev?.classList.contains('msg') === true &&
      prev.dataset.from === item.dataset.from &&
      prev.dataset.direct === item.dataset.direct &&
      !newDay &&
      Math.abs(Number(item.dataset.at) - Number(prev.dataset.at)) < GROUP_WINDOW_MS;
    item.classList.toggle('grouped', grouped);
  }

  /**
   * A message's item; with `asOf` (a logged message) it is kept to be amended and has actions.
   * @param {import('./types.js').MessageEvent} event @param {boolean} own @param {number | null} asOf
   */
  #messageItem(event, own, asOf) {
    const item = el('li', own ? 'msg own' : 'msg');
    item.dataset.from = event.from.id;
    item.dataset.at = String(Date.parse(event.ts));
    if (event.seq) item.dataset.seq = String(event.seq);
    item.dataset.id = event.id;
    // focusable: a tap on a touch screen (no hover there) or the arrow keys show its actions
    item.tabIndex = -1;
    if (asOf === null) {
      this.#fill(item, event, false);
      return item;
    }
    this.#messages.set(event.id, { event, item, asOf });
    this.#fill(item, event, true);
    const early = this.#early.get(event.id);
    if (early) {
      this.#early.delete(event.id);
      for (const change of early.sort((a, b) => a.seq - b.seq)) this.amend(change);
    }
    return item;
  }

  /** (Re)build a message's content from its state. @param {HTMLElement} item @param {import('./types.js').MessageEvent} event @param {boolean} logged */
  #fill(item, event, logged) {
    const me = this.#view.me();
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', event.from.name));
    meta.append(timeElement(event.ts));
    if (event.edited && !event.deleted) {
      const edited = el('span', 'edited', '(edited)');
      edited.title = `edited ${fullTime(event.edited)}`;
      meta.append(edited);
    }
    const parts = [meta];
    if (event.replyTo && !event.deleted) parts.push(this.#quote(event));
    if (event.deleted) parts.push(el('div', 'text deleted', 'message deleted'));
    else if (event.text) {
      const text = el('div', 'text md');
      text.append(renderMarkdown(event.text));
      parts.push(text);
      if (isLong(event.text)) parts.push(foldButton(item, text, this.#expanded));
    }
    if (event.files?.length && !event.deleted) parts.push(filesList(event.files));
    if (event.reactions?.length && !event.deleted) parts.push(this.#reactions(event, me));
    if (logged && !event.deleted) parts.push(this.#actions(event, me));
    // a redraw (an edit, a reaction) keeps the focus on the same control, or on the message
    const active = document.activeElement;
    const focused =
      active instanceof HTMLElement && active !== item && item.contains(active) ? controlKey(active) : null;
    item.replaceChildren(...parts);
    if (focused !== null) {
      // the actions show only while the message holds the focus: show them to give it back
      item.classList.add('refocus');
      const again = [...item.querySelectorAll('button, a')].find(
        (c) => controlKey(/** @type {HTMLElement} */ (c)) === focused,
      );
      if (again instanceof HTMLElement) again.focus({ preventScroll: true });
      else {
        item.tabIndex = -1;
        item.focus({ preventScroll: true });
      }
      item.classList.remove('refocus');
    }
    item.classList.toggle('deleted', event.deleted === true);
    item.classList.toggle('mentions-me', me !== null && !event.deleted && (event.mentions ?? []).includes(me.id));
  }

  /** The message a reply answers; a click shows it. @param {import('./types.js').MessageEvent} event */
  #quote(event) {
    const quote = /** @type {import('./types.js').Quote} */ (event.replyTo);
    const button = /** @type {HTMLButtonElement} */ (el('button', 'quote'));
    button.type = 'button';
    // read as "In reply to Bob: the text. Show it."; seen as "Bob the text"
    button.append(
      el('span', 'sr-only', 'In reply to '),
      el('span', 'quote-author', quote.from.name),
      el('span', 'sr-only', ': '),
      el('span', 'quote-text', quote.deleted ? 'message deleted' : quote.text),
      el('span', 'sr-only', '. Show it.'),
    );
    button.addEventListener('click', () => this.#view.onAction('quote', event));
    return button;
  }

  /** @param {import('./types.js').MessageEvent} event @param {import('./types.js').Member | null} me */
  #reactions(event, me) {
    const row = el('div', 'reactions');
    for (const r of event.reactions ?? []) {
      const mine = me !== null && r.members.includes(me.id);
      const button = /** @type {HTMLButtonElement} */ (el('button', 'reaction'));
      button.type = 'button';
      button.append(el('span', 'emoji', r.emoji), el('span', 'count', String(r.members.length)));
      button.setAttribute('aria-pressed', String(mine));
      const names = r.members.map((id) => (me && id === me.id ? 'you' : this.#view.nameOf(id)));
      button.title = `${names.join(', ')} reacted with ${r.emoji}`;
      button.setAttribute(
        'aria-label',
        `${r.emoji} ${r.members.length}: ${names.join(', ')}${mine ? '; press to remove yours' : ''}`,
      );
      button.addEventListener('click', () => this.#view.onAction('react', event, r.emoji));
      row.append(button);
    }
    return row;
  }

  /** Reply, quick reactions, and edit or delete where allowed. @param {import('./types.js').MessageEvent} event @param {import('./types.js').Member | null} me */
  #actions(event, me) {
    const bar = el('div', 'msg-actions');
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', `Actions on the message of ${event.from.name}`);
    /** @param {string} label @param {string} text @param {() => void} run */
    const add = (label, text, run) => {
      const b = /** @type {HTMLButtonElement} */ (el('button', 'ghost', text));
      b.type = 'button';
      b.setAttribute('aria-label', label);
      b.title = label;
      b.addEventListener('click', run);
      bar.append(b);
    };
    add('Reply', 'Reply', () => this.#view.onAction('reply', event));
    for (const emoji of QUICK_REACTIONS)
      add(`React with ${emoji}`, emoji, () => this.#view.onAction('react', event, emoji));
    add('More reactions', '＋', () => this.#view.onAction('picker', event));
    const own = me !== null && event.from.id === me.id;
    if (own) add('Edit', 'Edit', () => this.#view.onAction('edit', event));
    if (own || this.#view.canModerate()) add('Delete', 'Delete', () => this.#view.onAction('delete', event));
    return bar;
  }

  /** A logged message shown here, as it is now. @param {string} id */
  message(id) {
    return this.#messages.get(id)?.event ?? null;
  }

  /** The last message of `memberId` shown (to edit with the Up arrow). @param {string} memberId */
  lastMessageOf(memberId) {
    let last = null;
    for (const shown of this.#messages.values()) {
      const e = shown.event;
      if (e.from.id === memberId && !e.deleted && (last === null || e.seq > last.seq)) last = e;
    }
    return last;
  }

  /**
   * Apply an edit, delete or react event to the message it is about, if shown and not already in
   * that state. @param {import('./types.js').EditEvent | import('./types.js').DeleteEvent | import('./types.js').ReactEvent} change
   * @returns {import('./types.js').MessageEvent | null} the message as it now is, or null
   */
  amend(change) {
    const shown = this.#messages.get(change.id);
    if (!shown) {
      const kept = this.#early.get(change.id) ?? [];
      if (kept.length < 50) kept.push(change);
      this.#early.set(change.id, kept);
      if (this.#early.size > 500) this.#early.delete(this.#early.keys().next().value ?? '');
      return null;
    }
    if (change.seq <= shown.asOf) return null;
    shown.asOf = change.seq;
    /** @type {import('./types.js').MessageEvent} */
    let next = shown.event;
    if (change.type === 'edit') next = { ...next, text: change.text, edited: change.ts };
    else if (change.type === 'delete') {
      const { id, room, seq, from, ts } = next;
      next = { type: 'message', id, room, seq, from, ts, text: '', deleted: true };
      // replies shown here quote it no more
      for (const other of this.#messages.values()) {
        if (other.event.replyTo?.id !== change.id) continue;
        other.event = { ...other.event, replyTo: { ...other.event.replyTo, text: '', deleted: true } };
        this.#fill(other.item, other.event, true);
      }
    } else {
      const reactions = (next.reactions ?? []).map((r) => ({ emoji: r.emoji, members: [...r.members] }));
      let r = reactions.find((x) => x.emoji === change.emoji);
      if (!r && change.on) {
        r = { emoji: change.emoji, members: [] };
        reactions.push(r);
      }
      if (r && change.on && !r.members.includes(change.from.id)) r.members.push(change.from.id);
      if (r && !change.on) r.members = r.members.filter((m) => m !== change.from.id);
      next = { ...next, reactions: reactions.filter((x) => x.members.length > 0) };
    }
    shown.event = next;
    this.#fill(shown.item, next, true);
    return next;
  }

  /** Redraw every message (who I am or my role changed). */
  refresh() {
    for (const shown of this.#messages.values()) this.#fill(shown.item, shown.event, true);
  }

  /**
   * A line about the room: who came, left or was renamed (runs of joins and leaves fold into one
   * line), the topic, roles and removals.
   * @param {Exclude<Parameters<Timeline['addEvent']>[0], import('./types.js').MessageEvent>} event
   */
  #systemItem(event) {
    let text;
    if (event.type === 'join') text = `${event.member.name} joined`;
    else if (event.type === 'leave') text = `${event.member.name} left`;
    else if (event.type === 'rename') text = `${event.previous} is now ${event.member.name}`;
    else if (event.type === 'topic')
      text = event.text ? `${event.by.name} set the topic: ${event.text}` : `${event.by.name} cleared the topic`;
    else if (event.type === 'role')
      text =
        event.role === 'moderator'
          ? `${event.by.name} made ${event.member.name} a moderator`
          : `${event.by.name} made ${event.member.name} a member again`;
    else {
      const banned = Date.parse(event.until) - Date.parse(event.ts) > 30_000;
      text = `${event.by.name} removed ${event.member.name}${banned ? ` until ${fullTime(event.until)}` : ''}`;
    }
    const item = el('li', 'system');
    const line = el('span', 'line', text);
    item.append(line, ' · ', timeElement(event.ts));
    item.dataset.seq = String(event.seq);
    item.dataset.at = String(Date.parse(event.ts));
    if (event.type === 'join' || event.type === 'leave') {
      item.classList.add('presence');
      item.dataset.kind = event.type;
      item.dataset.name = event.member.name;
    }
    return item;
  }

  /**
   * Runs of joins and leaves (several people arriving before anyone speaks) show as one line, on
   * the run's last item: "Ann, Bob and 3 others joined · Cy left".
   * @param {Element | null} node an item of the run (or next to one)
   */
  #foldPresence(node) {
    if (!(node instanceof HTMLElement) || !node.classList.contains('presence')) return;
    // a run is one day's: the first item of a day starts a new one (its separator stays shown)
    let first = node;
    while (!first.classList.contains('new-day') && first.previousElementSibling?.classList.contains('presence'))
      first = /** @type {HTMLElement} */ (first.previousElementSibling);
    /** @type {HTMLElement[]} */
    const run = [first];
    for (
      let n = first.nextElementSibling;
      n?.classList.contains('presence') && !n.classList.contains('new-day');
      n = n.nextElementSibling
    )
      run.push(/** @type {HTMLElement} */ (n));
    const last = /** @type {HTMLElement} */ (run.at(-1));
    for (const item of run) {
      item.classList.toggle('folded', item !== last && run.length > 1);
      const line = item.querySelector('.line');
      if (line)
        line.textContent =
          item === last
            ? presenceSummary(run)
            : `${item.dataset.name} ${item.dataset.kind === 'join' ? 'joined' : 'left'}`;
    }
  }
}

/**
 * A message's files: images as thumbnails that open full size, anything else as a chip with its
 * name, size and a download link. Built from text nodes and attributes, never HTML.
 * @param {import('./types.js').ChatFile[]} files
 */
function filesList(files) {
  const list = el('ul', 'files');
  for (const f of files) {
    const li = el('li');
    const link = document.createElement('a');
    link.href = `/files/${encodeURIComponent(f.id)}`;
    if (f.type.startsWith('image/')) {
      link.className = 'image';
      const img = document.createElement('img');
      img.src = `/files/${encodeURIComponent(f.id)}/thumb`;
      img.alt = f.name;
      img.loading = 'lazy';
      if (f.width && f.height) {
        const scale = Math.min(1, 480 / Math.max(f.width, f.height));
        img.width = Math.round(f.width * scale);
        img.height = Math.round(f.height * scale);
      }
      link.append(img);
    } else {
      link.className = 'file-chip';
      link.download = f.name;
      link.append(el('span', 'file-name', f.name), el('span', 'file-size', formatSize(f.size)));
    }
    li.append(link);
    list.append(li);
  }
  return list;
}

/** A time shown as hours and minutes, with the full date and time on hover. @param {string} iso */
function timeElement(iso) {
  const time = el('time', undefined, localTime(iso));
  time.setAttribute('datetime', iso);
  time.title = fullTime(iso);
  return time;
}

/** The local day of a time, as a separator shows it. @param {number} ms */
function dayOf(ms) {
  return new Date(ms).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** "Ann, Bob and 3 others joined · Cy left" for a run of join and leave items. @param {HTMLElement[]} run */
function presenceSummary(run) {
  /** @param {'join' | 'leave'} kind */
  const names = (kind) => [...new Set(run.filter((i) => i.dataset.kind === kind).map((i) => i.dataset.name ?? ''))];
  /** @param {string[]} list */
  const phrase = (list) =>
    list.length <= 3
      ? list.length === 1
        ? list[0]
        : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`
      : `${list.slice(0, 2).join(', ')} and ${list.length - 2} others`;
  const joined = names('join');
  const left = names('leave');
  return [joined.length ? `${phrase(joined)} joined` : '', left.length ? `${phrase(left)} left` : '']
    .filter(Boolean)
    .join(' · ');
}

/** Lines past which a message is folded, and characters (a long paragraph). */
export const FOLD_LINES = 12;
const FOLD_CHARS = 1200;

/** @param {string} text */
function isLong(text) {
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1 && lines <= FOLD_LINES; i = text.indexOf('\n', i + 1)) lines++;
  return lines > FOLD_LINES || text.length > FOLD_CHARS;
}

/**
 * "Show more" under a folded long message; it unfolds it and folds it again.
 * @param {HTMLElement} item @param {HTMLElement} text @param {Set<string>} expanded ids unfolded
 */
function foldButton(item, text, expanded) {
  const id = item.dataset.id ?? '';
  text.id = `text-${id}`;
  const button = /** @type {HTMLButtonElement} */ (el('button', 'link-button fold'));
  button.type = 'button';
  button.setAttribute('aria-controls', text.id);
  const show = (/** @type {boolean} */ open) => {
    text.classList.toggle('folded', !open);
    button.textContent = open ? 'Show less' : 'Show more';
    button.setAttribute('aria-expanded', String(open));
  };
  show(expanded.has(id));
  button.addEventListener('click', () => {
    const open = !expanded.has(id);
    if (open) expanded.add(id);
    else expanded.delete(id);
    show(open);
  });
  return button;
}

/** What tells a message's control from the others, across a redraw. @param {HTMLElement} control */
function controlKey(control) {
  return `${control.className}|${control.getAttribute('aria-label') ?? control.textContent}`;
}
