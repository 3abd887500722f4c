// What the browser keeps between visits, in localStorage: the display name, the rooms visited
// lately, the outbox of each room, and the alert preference. Not the uid: that is the HttpOnly
// rc_uid cookie, which no script reads.

import { canonicalDisplayName } from './rules.js';

/** Where older versions kept the uid: removed, so the secret is not left readable to scripts. */
const OLD_UID_KEY = 'roomchat.uid';
const NAME_KEY = 'roomchat.name';
const RECENT_KEY = 'roomchat.recent';
const ALERTS_KEY = 'roomchat.alerts';
const RECENT_MAX = 8;

/** @param {string} key */
function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the page still works, it just forgets
  }
}

/** @param {string} key @param {string | null} value */
function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage full or disabled */
  }
}

write(OLD_UID_KEY, null);

export function displayName() {
  // a name kept under older, looser rules is asked again rather than refused at every connect
  const checked = canonicalDisplayName(read(NAME_KEY) ?? '');
  return checked.ok ? checked.value : '';
}

/** @param {string} name */
export function setDisplayName(name) {
  write(NAME_KEY, name);
}

/** @returns {{ room: string, at: number }[]} newest first */
export function recentRooms() {
  try {
    const list = JSON.parse(read(RECENT_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((r) => typeof r?.room === 'string' && typeof r?.at === 'number') : [];
  } catch {
    return [];
  }
}

/** @param {string} room */
export function rememberRoom(room) {
  const list = [{ room, at: Date.now() }, ...recentRooms().filter((r) => r.room !== room)].slice(0, RECENT_MAX);
  write(RECENT_KEY, JSON.stringify(list));
}

/** @param {string} room @returns {import('./types.js').OutboxEntry[]} */
export function loadOutbox(room) {
  try {
    const list = JSON.parse(read(`roomchat.outbox.${room}`) ?? '[]');
    return Array.isArray(list)
      ? list.filter((e) => typeof e?.clientMsgId === 'string' && typeof e?.text === 'string')
      : [];
  } catch {
    return [];
  }
}

/** @param {string} room @param {import('./types.js').OutboxEntry[]} entries */
export function saveOutbox(room, entries) {
  write(`roomchat.outbox.${room}`, entries.length ? JSON.stringify(entries) : null);
}

export function alertsOn() {
  return read(ALERTS_KEY) === 'on';
}

/** @param {boolean} on */
export function setAlerts(on) {
  write(ALERTS_KEY, on ? 'on' : null);
}
