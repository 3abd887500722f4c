/**
 * The protocol's rules that the browser client checks too: limits, canonical room and display
 * names, the uid pattern, fresh room names. The server imports this module (through names.ts and
 * protocol.ts); the build also compiles it for the browser, served as /assets/js/rules.js
 * (docs/client.md). So it imports nothing and uses only what Node 20 and browsers both have.
 */

/** Most code points in a message text. */
export const TEXT_MAX = 4000;
/** Most UTF-16 units in a `clientMsgId`. */
export const CLIENT_MSG_ID_MAX = 128;
/** Most code points in a room name. */
export const ROOM_MAX = 64;
/** Most code points in a display name. */
export const NAME_MAX = 32;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Letters (with their combining marks) and digits of any script, `-`, `_`, `.`. */
const ROOM_RE = /^[\p{L}\p{M}\p{N}_.-]+$/u;
/** What a name must hold at least once: a room a letter or digit, a display name anything visible. */
const ROOM_SUBSTANCE_RE = /[\p{L}\p{N}]/u;
const NAME_SUBSTANCE_RE = /[\p{L}\p{N}\p{S}\p{P}]/u;
/**
 * Characters that hide or disguise a name: controls, format characters (bidi overrides and
 * isolates, zero-width characters, tags), default-ignorable code points (variation selectors,
 * U+034F), private use, noncharacters, lone surrogates, and line or paragraph separators.
 */
const INVISIBLE_RE =
  /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Noncharacter_Code_Point}\p{Cs}\u2028\u2029]/u;
/** A uid: the secret a browser keeps to be the same member again. */
export const UID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
const UID_RE = new RegExp(UID_PATTERN);

/** Length in Unicode code points, the unit every limit of the protocol counts in. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is one code point
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Trim, lower-case, NFC (in that order: lower-casing can undo NFC); then 1..64 letters, digits, `-`, `_`, `.`. */
export function canonicalRoom(raw: unknown): Checked<string> {
  if (typeof raw !== 'string') return { ok: false, reason: 'a room name is required (?room=NAME)' };
  const room = raw.trim().toLowerCase().normalize('NFC');
  if (room.length === 0) return { ok: false, reason: 'the room name is empty' };
  if (codePoints(room) > ROOM_MAX) return { ok: false, reason: `a room name has at most ${ROOM_MAX} characters` };
  if (!ROOM_RE.test(room) || INVISIBLE_RE.test(room)) {
    return { ok: false, reason: 'a room name may only hold letters, digits, "-", "_" and "."' };
  }
  if (!ROOM_SUBSTANCE_RE.test(room)) return { ok: false, reason: 'a room name needs a letter or a digit' };
  return { ok: true, value: room };
}

/** Trim, NFC; then 1..32 characters, something visible among them, nothing invisible or disguising. */
export function canonicalDisplayName(raw: string): Checked<string> {
  const name = raw.trim().normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'the display name is empty' };
  if (codePoints(name) > NAME_MAX) return { ok: false, reason: `a display name has at most ${NAME_MAX} characters` };
  if (INVISIBLE_RE.test(name)) {
    return { ok: false, reason: 'a display name may not hold control, format or invisible characters' };
  }
  if (!NAME_SUBSTANCE_RE.test(name)) return { ok: false, reason: 'a display name needs a visible character' };
  return { ok: true, value: name };
}

/** What display names compare as (PROTOCOL.md, "Names"): NFC, then lower case. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * The `k`th choice of a name taken by a present member: `NAME (k)`, NAME cut at its end (whole
 * characters as people see them, trailing spaces dropped) so that the whole fits NAME_MAX.
 * The first choice is the name itself.
 */
export function suffixedName(name: string, k: number): string {
  if (k <= 1) return name;
  const suffix = ` (${k})`;
  if (codePoints(name) + suffix.length <= NAME_MAX) return name + suffix;
  let cut = '';
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(name)) {
    if (codePoints(cut) + codePoints(segment) + suffix.length > NAME_MAX) break;
    cut += segment;
  }
  return cut.trimEnd() + suffix;
}

/**
 * Whether `name` is what the server made of `wanted` (itself, or `wanted (k)` when a present
 * member had it): a page then keeps it rather than asking for `wanted` again.
 */
export function isChoiceOf(name: string, wanted: string): boolean {
  if (name === wanted) return true;
  const k = / \((\d{1,4})\)$/.exec(name)?.[1];
  return k !== undefined && suffixedName(wanted, Number(k)) === name;
}

/** Most files a message carries. */
export const FILES_MAX = 10;

/** Most UTF-8 bytes of a reaction's emoji, and most different emoji on one message. */
export const EMOJI_MAX_BYTES = 32;
/** Most members a message mentions (v2). */
export const MENTIONS_MAX = 20;
/** Code points of a room topic, and the longest kick (a week, in minutes). */
export const TOPIC_MAX = 200;
export const KICK_MAX_MINUTES = 10080;
export const REACTIONS_MAX = 20;
const PICTOGRAPH_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}{2}/u;

/** A reaction's emoji: one grapheme cluster (as people see one character) holding an emoji. */
export function isEmoji(emoji: string): boolean {
  if (new TextEncoder().encode(emoji).length > EMOJI_MAX_BYTES) return false;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(emoji)];
  return graphemes.length === 1 && PICTOGRAPH_RE.test(emoji);
}

export function isValidUid(uid: string): boolean {
  return UID_RE.test(uid);
}

/** A fresh room name nobody guesses: `room-` and 80 random bits in 16 base32 characters. */
export function freshRoomName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  // 256 is a multiple of 32: every character is uniform
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `room-${Array.from(bytes, (b) => alphabet[b % 32]).join('')}`;
}
