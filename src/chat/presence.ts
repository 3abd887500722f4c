/**
 * Who is in each room: a member (uid) is in from its first live connection until its last one has
 * been gone for the leave grace period, so tabs and quick reconnects are one presence. `Presence`
 * keeps it in this process; `RedisPresence` (presence-redis.ts) shares it between instances.
 */
import type { Member } from './protocol.js';

type Awaitable<T> = T | Promise<T>;

/** Members over all rooms of a room → member map (for the metrics of either presence). */
export function countMembers(rooms: ReadonlyMap<string, ReadonlyMap<string, unknown>>): number {
  let n = 0;
  for (const members of rooms.values()) n += members.size;
  return n;
}

/** What the chat service needs of presence; answers may come at once or from a shared store. */
export interface PresenceTracker {
  /**
   * A connection of `member` opened. Returns the member as the room knows it (an existing member
   * keeps its name; every local tab shares the returned object) and whether it just entered the
   * room (a join to log).
   */
  connect(room: string, member: Member): Awaitable<{ member: Member; entered: boolean }>;
  /** A connection of the member closed; its last one anywhere starts the grace period. */
  disconnect(room: string, memberId: string): Awaitable<void>;
  /** Members of a room, including those in their grace period (they have not left). */
  members(room: string): Awaitable<Member[]>;
  /** The member, when it has a live connection in the room (anywhere). */
  online(room: string, memberId: string): Awaitable<Member | undefined>;
  /** The member's name changed (its rename is logged): remember it. */
  renamed(room: string, member: Member): Awaitable<void>;
  /** Members the log shows present in a room this process has not seen yet (after a restart). */
  restore(room: string, logged: readonly Member[]): Awaitable<void>;
  /** Rooms and members with a connection here, for metrics. */
  readonly roomCount: number;
  readonly memberCount: number;
  close(): Awaitable<void>;
}

export interface PresenceOptions {
  /** How long a member with no connection stays before it leaves. */
  leaveGraceMs: number;
  /** The grace period of `member` ran out: log its leave. */
  onLeave(room: string, member: Member): void;
}

interface MemberState {
  member: Member;
  connections: number;
  leaveTimer: NodeJS.Timeout | null;
}

export class Presence implements PresenceTracker {
  readonly #rooms = new Map<string, Map<string, MemberState>>();
  readonly #opts: PresenceOptions;

  constructor(options: PresenceOptions) {
    this.#opts = options;
  }

  /**
   * A connection of `member` opened. Returns the member as the room knows it (an existing member
   * keeps its name) and whether it just entered the room (a join to log).
   */
  connect(room: string, member: Member): { member: Member; entered: boolean } {
    const members = this.#roomMembers(room);
    const state = members.get(member.id);
    if (state) {
      state.connections++;
      this.#cancelLeave(state);
      return { member: state.member, entered: false };
    }
    const fresh = { member: { ...member }, connections: 1, leaveTimer: null };
    members.set(member.id, fresh);
    return { member: fresh.member, entered: true };
  }

  /** A connection of the member closed; its last one starts the grace period. */
  disconnect(room: string, memberId: string): void {
    const state = this.#rooms.get(room)?.get(memberId);
    if (!state) return;
    state.connections = Math.max(0, state.connections - 1);
    if (state.connections === 0) this.#startLeave(room, state);
  }

  /**
   * Members the log says are in a room this process has not seen yet (it restarted): they are
   * treated as just disconnected, so a reconnect inside the grace period logs nothing.
   */
  restore(room: string, logged: readonly Member[]): void {
    const members = this.#roomMembers(room);
    for (const member of logged) {
      if (members.has(member.id)) continue;
      const state: MemberState = { member: { ...member }, connections: 0, leaveTimer: null };
      members.set(member.id, state);
      this.#startLeave(room, state);
    }
  }

  /** The member of a room, or undefined when it is not in it. */
  get(room: string, memberId: string): Member | undefined {
    return this.#rooms.get(room)?.get(memberId)?.member;
  }

  online(room: string, memberId: string): Member | undefined {
    const state = this.#rooms.get(room)?.get(memberId);
    return state && state.connections > 0 ? state.member : undefined;
  }

  renamed(room: string, member: Member): void {
    const known = this.get(room, member.id);
    if (known) known.name = member.name;
  }

  /** Members of a room (including those in their grace period: they have not left). */
  members(room: string): Member[] {
    const members = this.#rooms.get(room);
    return members ? [...members.values()].map((s) => s.member) : [];
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get memberCount(): number {
    return countMembers(this.#rooms);
  }

  /** Stop every grace timer (shutdown): members who were present stay so in the log. */
  close(): void {
    for (const members of this.#rooms.values()) for (const state of members.values()) this.#cancelLeave(state);
    this.#rooms.clear();
  }

  #roomMembers(room: string): Map<string, MemberState> {
    let members = this.#rooms.get(room);
    if (!members) {
      members = new Map();
      this.#rooms.set(room, members);
    }
    return members;
  }

  #startLeave(room: string, state: MemberState): void {
    this.#cancelLeave(state);
    state.leaveTimer = setTimeout(() => {
      state.leaveTimer = null;
      const members = this.#rooms.get(room);
      if (members?.get(state.member.id) !== state || state.connections > 0) return;
      members.delete(state.member.id);
      if (members.size === 0) this.#rooms.delete(room);
      this.#opts.onLeave(room, state.member);
    }, this.#opts.leaveGraceMs);
  }

  #cancelLeave(state: MemberState): void {
    if (state.leaveTimer) clearTimeout(state.leaveTimer);
    state.leaveTimer = null;
  }
}
