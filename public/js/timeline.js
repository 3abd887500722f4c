// The conversation as a list in the DOM: every item placed by its order key (an event's seq; a
// direct message sits just after the event it followed), each seq at most once, consecutive
// messages of one member grouped. User text only ever goes in as text.

import { formatSize } from './uploads.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;

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

export class Timeline {
  /** @type {HTMLElement} */ #scroller;
  /** @type {HTMLOListElement} */ #list;
  /** @type {HTMLOListElement} */ #pendingList;
  /** @type {Map<number, HTMLElement>} */ #bySeq = new Map();
  /** @type {Map<string, HTMLElement>} */ #pending = new Map();
  #directs = 0;
  /** @type {() => void} */ #onNewBelow;

  /**
   * @param {HTMLElement} scroller the scrolling container
   * @param {HTMLOListElement} list logged events and direct messages
   * @param {HTMLOListElement} pendingList messages not acknowledged yet, always last
   * @param {() => void} onNewBelow a message arrived while the reader is scrolled up
   */
  constructor(scroller, list, pendingList, onNewBelow) {
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
   * @param {Extract<import('./types.js').ChatEvent, { type: 'message' | 'join' | 'leave' | 'rename' }>} event
   * @param {{ own: boolean, live: boolean }} how
   * @returns {boolean} false when it was shown already
   */
  addEvent(event, { own, live }) {
    if (this.#bySeq.has(event.seq)) return false;
    const item = event.type === 'message' ? this.#messageItem(event, own) : this.#systemItem(event);
    item.dataset.order = String(event.seq);
    this.#bySeq.set(event.seq, item);
    this.#place(item, event.seq, live, own);
    return true;
  }

  /** @param {import('./types.js').DirectFrameOut} frame @param {boolean} own */
  addDirect(frame, own) {
    const item = this.#messageItem(
      { type: 'message', room: '', seq: 0, id: frame.id, from: frame.from, text: frame.text, ts: frame.ts },
      own,
    );
    item.classList.add('direct');
    const label = el('span', 'private', own ? `private to ${frame.to.name}` : 'private to you');
    item.querySelector('.meta')?.append(label);
    item.dataset.direct = 'true';
    // after the latest event at the time it arrived, after earlier direct messages
    const order = (this.lastSeq ?? 0) + 0.5 + ++this.#directs / 1e6;
    item.dataset.order = String(order);
    this.#place(item, order, true, own);
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
    this.#regroup(item);
    if (item.nextElementSibling) this.#regroup(/** @type {HTMLElement} */ (item.nextElementSibling));
    if (before !== null) {
      // inserted above the end (scrollback, a gap filled): keep what the reader looks at in place
      this.#scroller.scrollTop = topBefore + (this.#scroller.scrollHeight - heightBefore);
    } else if (own || wasNearBottom) {
      this.scrollToBottom();
    } else if (live && item.classList.contains('msg')) {
      this.#onNewBelow();
    }
  }

  /** A message follows another of the same member within minutes: show it without the header. */
  #regroup(/** @type {HTMLElement} */ item) {
    const prev = /** @type {HTMLElement | null} */ (item.previousElementSibling);
    const grouped =
      item.classList.contains('msg') &&
      prev?.classList.contains('msg') === true &&
      prev.dataset.from === item.dataset.from &&
      prev.dataset.direct === item.dataset.direct &&
      Math.abs(Number(item.dataset.at) - Number(prev.dataset.at)) < GROUP_WINDOW_MS;
    item.classList.toggle('grouped', grouped);
  }

  /** @param {import('./types.js').MessageEvent} event @param {boolean} own */
  #messageItem(event, own) {
    const item = el('li', own ? 'msg own' : 'msg');
    item.dataset.from = event.from.id;
    item.dataset.at = String(Date.parse(event.ts));
    if (event.seq) item.dataset.seq = String(event.seq);
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', event.from.name));
    const time = el('time', undefined, localTime(event.ts));
    time.setAttribute('datetime', event.ts);
    meta.append(time);
    item.append(meta);
    if (event.text) item.append(el('div', 'text', event.text));
    if (event.files?.length) item.append(filesList(event.files));
    return item;
  }

  /** @param {import('./types.js').JoinEvent | import('./types.js').LeaveEvent | import('./types.js').RenameEvent} event */
  #systemItem(event) {
    const who = event.member.name;
    let text = `${who} joined`;
    if (event.type === 'leave') text = `${who} left`;
    else if (event.type === 'rename') text = `${event.previous} is now ${who}`;
    const item = el('li', 'system', `${text} · ${localTime(event.ts)}`);
    item.dataset.seq = String(event.seq);
    return item;
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
