/**
 * The join sequence of a new connection, in the order that makes "every event after the welcome
 * arrives once, in order, with no gap" hold whatever happens meanwhile:
 *   1. take a seat in the registry: live deliveries from now on collect in its backlog;
 *   2. listen to the room's bus channel before reading the store, so nothing falls between them;
 *   3. the first connection of the room here learns where the room stands in its log;
 *   4. count the member in presence; a member that just entered gets its join logged;
 *   5. read the history up to the welcome's seq, send the welcome, flush the backlog after it.
 * The socket may close at any await: it is then released, and its leave (if any) follows the join.
 */
import { type Clock, timestamp } from './clock.js';
import { CLOSE_KICKED, type Connection } from './connection.js';
import type { PresenceTracker } from './presence/presence.js';
import { errorFrame, type Member, type WelcomeFrame } from './protocol.js';
import type { RoomHub } from './room-hub.js';
import type { RoomRegistry, Seat } from './room-registry.js';
import type { HistoryStore, StoredEvent } from './store/history-store.js';

/** Direct messages a welcome carries at most (PROTOCOL.md: the newest 50). */
export const WELCOME_DIRECTS = 50;
/** Events in a welcome without `since`. */
export const WELCOME_HISTORY = 50;
/** Most events a welcome with `since` carries; older ones are paged over HTTP. */
export const RESUME_MAX = 1000;

export interface WelcomeDeps {
  store: HistoryStore;
  registry: RoomRegistry;
  hub: RoomHub;
  presence: PresenceTracker;
  clock: Clock;
  /** Largest history a welcome carries, serialized; the newest events that fit. */
  welcomeMaxBytes: number;
}

/** The connection being welcomed, told of each step that its release must undo. */
export interface Joiner {
  readonly conn: Connection;
  /** It has a seat in the registry (before anything is awaited). */
  seated(seat: Seat): void;
  /** It is counted in presence as `member`, the room's view of it (shared by its tabs). */
  counted(member: Member): void;
  /** The socket went away during the welcome. */
  release(): void;
}

/** Welcome `joiner`; resolves once the welcome was sent (or the socket went away meanwhile). */
export async function welcome(deps: WelcomeDeps, joiner: Joiner, requested: Member, since?: number): Promise<void> {
  const { store, registry, hub, presence, clock } = deps;
  const { conn } = joiner;
  const room = conn.room;
  // a kicked member's handshake gets only the error, until its ban ends
  if (await refuseBanned(store, clock, conn, requested.id)) return joiner.release();
  const seat = registry.add(conn);
  joiner.seated(seat);
  await hub.watch(room);
  if (!registry.isStarted(room)) {
    const [latest, logged] = await Promise.all([store.latestSeq(room), store.loggedMembers(room)]);
    registry.start(room, latest);
    await presence.restore(room, logged);
  }
  if (conn.socket.readyState > 1) return joiner.release();
  const { member, entered } = await presence.connect(room, requested);
  joiner.counted(member);
  let upTo: number;
  if (entered) {
    // logged even when the socket is already gone: its leave follows
    const joined = await hub.append({
      draft: { type: 'join', room, member: { ...member }, ts: timestamp(clock) },
      memberId: member.id,
    });
    hub.publish(room, joined.event);
    upTo = joined.event.seq;
  } else {
    upTo = await store.latestSeq(room);
  }
  if (conn.socket.readyState > 1) return joiner.release();
  let history: StoredEvent[];
  let truncated = false;
  if (since !== undefined) {
    history = since >= upTo ? [] : await store.read(room, { afterSeq: since, beforeSeq: upTo + 1, limit: RESUME_MAX });
    truncated = history.length > 0 && (history[0] as StoredEvent).seq > since + 1;
  } else {
    history = await store.read(room, { beforeSeq: upTo + 1, limit: WELCOME_HISTORY });
  }
  const fitting = newestThatFit(history, deps.welcomeMaxBytes);
  if (fitting.length < history.length) {
    history = fitting;
    truncated = true;
  }
  const [members, directs, info] = await Promise.all([
    presence.members(room),
    store.directsOf(room, member.id, WELCOME_DIRECTS),
    store.roomInfo(room),
  ]);
  // the directs are bounded by bytes too: each may be long
  const kept = newestThatFit(
    directs.map((json) => ({ seq: 0, json })),
    deps.welcomeMaxBytes,
  ).map((d) => d.json);
  // a kick logged while this welcome was being prepared is in its history, not delivered live:
  // its ban is stored with it, so asking again now catches it
  if (await refuseBanned(store, clock, conn, member.id)) return joiner.release();
  const head = { type: 'welcome' as const, room, you: member, members, seq: upTo, truncated, ...info };
  conn.sendFrame(welcomeFrame(head, history, kept));
  registry.welcomed(seat, upTo);
}

/** Answer a banned member's handshake with the error alone and close it; true when it was banned. */
async function refuseBanned(store: HistoryStore, clock: Clock, conn: Connection, memberId: string): Promise<boolean> {
  const until = await store.bannedUntil(conn.room, memberId);
  if (until <= clock.now()) return false;
  const at = new Date(until).toISOString();
  conn.sendFrame(errorFrame({ code: 'banned', message: `you were removed from this room until ${at}`, until: at }));
  conn.close(CLOSE_KICKED, 'banned');
  return true;
}

/** The newest events whose JSON texts, comma-separated, take at most `maxBytes`. */
export function newestThatFit(events: StoredEvent[], maxBytes: number): StoredEvent[] {
  let bytes = 0;
  let first = events.length;
  while (first > 0) {
    bytes += Buffer.byteLength((events[first - 1] as StoredEvent).json) + 1;
    if (bytes > maxBytes + 1) break;
    first--;
  }
  return first === 0 ? events : events.slice(first);
}

/**
 * The welcome frame's JSON. The history goes in as the stored JSON texts: it is never parsed and
 * serialized again (a resume can carry a thousand events).
 */
export function welcomeFrame(
  head: Omit<WelcomeFrame, 'history' | 'directs'>,
  history: readonly StoredEvent[],
  directs: readonly string[] = [],
): string {
  const json = JSON.stringify({
    type: head.type,
    room: head.room,
    you: head.you,
    members: head.members,
    seq: head.seq,
    truncated: head.truncated,
    topic: head.topic,
    roles: head.roles,
  } satisfies Omit<WelcomeFrame, 'history' | 'directs'>);
  return `${json.slice(0, -1)},"history":[${history.map((e) => e.json).join(',')}],"directs":[${directs.join(',')}]}`;
}
