// The search box of the room page: results as you type (debounced, the previous request aborted),
// the matched words marked with the rules the server searches by (search.js, from src/shared/),
// keyboard reachable, and a pick that jumps to the message in the conversation. Text only ever
// goes in as text nodes.

import { codePoints } from './rules.js';
import { matchedRanges, parseQuery, SEARCH_Q_MAX } from './search.js';

const DEBOUNCE_MS = 250;
/** Characters of a long result shown around its first match. */
const SNIPPET = 180;

/**
 * @typedef {{ events: import('./types.js').MessageEvent[], hasMore: boolean }} SearchPage
 */

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

/**
 * A result's text with the matched parts in <mark>: around the first match when it is long.
 * @param {string} text
 * @param {ReturnType<typeof parseQuery>} phrases
 */
export function markedText(text, phrases) {
  const shown = text.normalize('NFC'); // the offsets of matchedRanges are into the NFC text
  const ranges = matchedRanges(shown, phrases);
  let from = 0;
  let to = shown.length;
  if (shown.length > SNIPPET) {
    from = Math.max(0, (ranges[0]?.[0] ?? 0) - 40);
    to = Math.min(shown.length, from + SNIPPET);
    // never between the two halves of a surrogate pair
    const low = (/** @type {number} */ i) => i > 0 && i < shown.length && /[\udc00-\udfff]/.test(shown[i] ?? '');
    if (low(from)) from--;
    if (low(to)) to++;
  }
  const out = el('span', 'text');
  if (from > 0) out.append('…');
  let at = from;
  for (const [start, end] of ranges) {
    if (end <= from || start >= to) continue;
    const a = Math.max(start, from);
    const b = Math.min(end, to);
    if (a > at) out.append(shown.slice(at, a));
    out.append(el('mark', undefined, shown.slice(a, b)));
    at = b;
  }
  if (at < to) out.append(shown.slice(at, to));
  if (to < shown.length) out.append('…');
  return out;
}

export class SearchBox {
  #room;
  #input;
  #panel;
  #list;
  #status;
  #more;
  #onPick;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #timer;
  /** @type {AbortController | null} */ #inFlight = null;
  /** The query the results shown answer, and where its next page starts. */
  #shown = { q: '', before: /** @type {number | null} */ (null) };

  /**
   * @param {{
   *   room: string, input: HTMLInputElement, panel: HTMLElement, list: HTMLOListElement,
   *   status: HTMLElement, more: HTMLButtonElement, onPick: (seq: number) => void,
   * }} parts
   */
  constructor({ room, input, panel, list, status, more, onPick }) {
    this.#room = room;
    this.#input = input;
    this.#panel = panel;
    this.#list = list;
    this.#status = status;
    this.#more = more;
    this.#onPick = onPick;
    input.addEventListener('input', () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#search(false), DEBOUNCE_MS);
    });
    input.form?.addEventListener('submit', (e) => {
      e.preventDefault();
      clearTimeout(this.#timer);
      void this.#search(false);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.close(true);
      } else if (e.key === 'ArrowDown' && !this.#panel.hidden) {
        e.preventDefault();
        this.#results()[0]?.focus();
      }
    });
    list.addEventListener('keydown', (e) => this.#moveFocus(e));
    list.addEventListener('click', (e) => {
      const button = /** @type {HTMLElement} */ (e.target).closest('button.result');
      if (!(button instanceof HTMLButtonElement)) return;
      this.close(false);
      this.#onPick(Number(button.dataset.seq));
    });
    more.addEventListener('click', () => void this.#search(true));
    // a click anywhere else closes the results
    document.addEventListener('pointerdown', (e) => {
      const target = /** @type {Node} */ (e.target);
      if (!this.#panel.hidden && !this.#panel.contains(target) && !this.#input.contains(target)) this.close(false);
    });
  }

  /** Focus the box (Ctrl/Cmd+K or `/`), its text selected. */
  focus() {
    this.#input.focus();
    this.#input.select();
  }

  /** Hide the results; with `clear`, empty the box too (Escape). */
  close(/** @type {boolean} */ clear) {
    this.#panel.hidden = true;
    // a late answer must not open the results again
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
    if (clear) {
      this.#input.value = '';
      this.#shown = { q: '', before: null };
    }
  }

  /** @returns {HTMLButtonElement[]} */
  #results() {
    return [...this.#list.querySelectorAll('button'), ...(this.#more.hidden ? [] : [this.#more])];
  }

  /** Up and down move between results; Escape goes back to the box. @param {KeyboardEvent} e */
  #moveFocus(e) {
    const all = this.#results();
    const at = all.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (e.key === 'ArrowDown') all[Math.min(at + 1, all.length - 1)]?.focus();
    else if (e.key === 'ArrowUp') (at <= 0 ? this.#input : all[at - 1])?.focus();
    else if (e.key === 'Escape') this.#input.focus();
    else return;
    e.preventDefault();
  }

  /** Ask the server; `more`: the next page of the results shown. @param {boolean} more */
  async #search(more) {
    const q = more ? this.#shown.q : this.#input.value.trim();
    if (q === '' || codePoints(q) > SEARCH_Q_MAX) {
      if (q === '') this.close(false);
      else this.#show(`A search has at most ${SEARCH_Q_MAX} characters.`);
      return;
    }
    if (!more && q === this.#shown.q && !this.#panel.hidden) return;
    this.#inFlight?.abort();
    const controller = new AbortController();
    this.#inFlight = controller;
    const params = new URLSearchParams({ q });
    if (more && this.#shown.before !== null) params.set('before', String(this.#shown.before));
    /** @type {SearchPage} */
    let page;
    try {
      const res = await fetch(`/api/rooms/${encodeURIComponent(this.#room)}/search?${params}`, {
        signal: controller.signal,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      page = await res.json();
    } catch (err) {
      if (controller.signal.aborted) return;
      this.#show('Search failed; try again.');
      console.error('search failed', err);
      return;
    }
    if (!more) this.#list.replaceChildren();
    const phrases = parseQuery(q);
    for (const event of page.events) this.#list.append(this.#item(event, phrases));
    this.#shown = { q, before: page.events.at(-1)?.seq ?? null };
    this.#more.hidden = !page.hasMore;
    const n = this.#list.children.length;
    this.#show(
      n === 0
        ? `No messages match “${q}”.`
        : `${n}${page.hasMore ? '+' : ''} ${n === 1 ? 'message' : 'messages'} found.`,
    );
  }

  /** @param {string} status */
  #show(status) {
    this.#status.textContent = status;
    this.#panel.hidden = false;
  }

  /** @param {import('./types.js').MessageEvent} event @param {ReturnType<typeof parseQuery>} phrases */
  #item(event, phrases) {
    const li = el('li');
    const button = /** @type {HTMLButtonElement} */ (el('button', 'result'));
    button.type = 'button';
    button.dataset.seq = String(event.seq);
    const meta = el('span', 'meta');
    meta.append(el('span', 'author', event.from.name));
    const when = new Date(event.ts);
    const time = el('time', undefined, when.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
    time.setAttribute('datetime', event.ts);
    meta.append(time);
    button.append(meta, markedText(event.text, phrases));
    li.append(button);
    return li;
  }
}
