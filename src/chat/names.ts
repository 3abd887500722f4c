/**
 * Canonical forms and validation of room names, display names and uids, and the public member
 * id derived from a uid. Pure functions: no I/O. The rules the browser checks too live in
 * ../shared/rules.ts and are re-exported here.
 */
import { createHmac, randomBytes } from 'node:crypto';

export {
  type Checked,
  canonicalDisplayName,
  canonicalRoom,
  codePoints,
  isValidUid,
  NAME_MAX,
  ROOM_MAX,
  UID_PATTERN,
} from '../shared/rules.js';

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
