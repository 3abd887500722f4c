/**
 * Canonical forms and validation of room names, display names and uids, and the public member
 * id derived from a uid. Pure functions: no I/O.
 */
import { createHmac, randomBytes } from 'node:crypto';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export const ROOM_MAX = 64;
export const NAME_MAX = 32;

/** Letters (with their combining marks) and digits of any script, `-`, `_`, `.`. */
const ROOM_RE = /^[\p{L}\p{M}\p{N}_.-]+$/u;
/** C0/C1 controls, and the line/paragraph separators that would break a one-line name. */
const CONTROL_RE = /[\p{Cc}\u2028\u2029]/u;
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

/** Trim, NFC, lower-case; then 1..64 letters, digits, `-`, `_`, `.`. */
export function canonicalRoom(raw: unknown): Checked<string> {
  if (typeof raw !== 'string') return { ok: false, reason: 'a room name is required (?room=NAME)' };
  const room = raw.trim().normalize('NFC').toLowerCase();
  if (room.length === 0) return { ok: false, reason: 'the room name is empty' };
  if (codePoints(room) > ROOM_MAX) return { ok: false, reason: `a room name has at most ${ROOM_MAX} characters` };
  if (!ROOM_RE.test(room)) {
    return { ok: false, reason: 'a room name may only hold letters, digits, "-", "_" and "."' };
  }
  return { ok: true, value: room };
}

/** Trim, NFC; then 1..32 characters, no control characters. */
export function canonicalDisplayName(raw: string): Checked<string> {
  const name = raw.trim().normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'the display name is empty' };
  if (codePoints(name) > NAME_MAX) return { ok: false, reason: `a display name has at most ${NAME_MAX} characters` };
  if (CONTROL_RE.test(name)) return { ok: false, reason: 'a display name may not hold control characters' };
  return { ok: true, value: name };
}

export function isValidUid(uid: string): boolean {
  return UID_RE.test(uid);
}

/** A name for a member who did not pick one. */
export function guestName(): string {
  return `guest-${randomBytes(2).toString('hex')}`;
}

/** A uid for a connection that brought none: it is a member of its own. */
export function ephemeralUid(): string {
  return `anon-${randomBytes(18).toString('base64url')}`;
}

/**
 * The public id of the member `uid` in `room`: a keyed hash, so it is stable across reconnects
 * and restarts, differs between rooms, and reveals nothing of the uid.
 */
export function memberId(secret: string, room: string, uid: string): string {
  return createHmac('sha256', secret).update(room).update('\0').update(uid).digest('base64url').slice(0, 16);
}
