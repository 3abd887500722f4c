// The landing page: join a room by name, create one with a fresh unguessable name, or go back to
// a room visited lately.
import { canonicalRoom, freshRoomName, ROOM_MAX } from './rules.js';
import { recentRooms } from './storage.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('join-form'));
const input = /** @type {HTMLInputElement} */ (document.getElementById('room'));
const error = /** @type {HTMLElement} */ (document.getElementById('room-error'));
const create = /** @type {HTMLButtonElement} */ (document.getElementById('create-room'));
const recent = /** @type {HTMLElement} */ (document.getElementById('recent'));
const recentList = /** @type {HTMLElement} */ (document.getElementById('recent-list'));

/** @param {string} room */
const go = (room) => {
  location.href = `/?room=${encodeURIComponent(room)}`;
};

form.addEventListener('submit', (e) => {
  e.preventDefault();
  // "Team Lunch" opens #team-lunch: spaces become dashes (the server lower-cases names)
  const room = canonicalRoom(input.value.trim().replace(/\s+/gu, '-'));
  if (!room.ok) {
    error.textContent = `Use 1 to ${ROOM_MAX} letters or digits (and -, _ or .): ${room.reason}.`;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  go(room.value);
});

input.addEventListener('input', () => {
  error.textContent = '';
  input.removeAttribute('aria-invalid');
});

create.addEventListener('click', () => go(freshRoomName()));

const rooms = recentRooms();
recent.hidden = rooms.length === 0;
recentList.replaceChildren(
  ...rooms.map(({ room, at }) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `/?room=${encodeURIComponent(room)}`;
    a.textContent = `#${room}`;
    const when = document.createElement('time');
    when.dateTime = new Date(at).toISOString();
    when.textContent = new Date(at).toLocaleDateString([], { month: 'short', day: 'numeric' });
    li.append(a, when);
    return li;
  }),
);
