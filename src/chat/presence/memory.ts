/** The embedded PresenceTracker: one process's connections, with a grace timer per absent member. */
import { type Clock, systemClock, type Timer } from '../clock.js';
import type { Member } from '../protocol.js';
import { countMembers, type PresenceOptions, type PresenceTracker } from './presence.js';

interface MemberState {
  member: Member;
  connections: number;
  leaveTimer: Timer | null;
}

export class MemoryPresence implements PresenceTracker {
  readonly #rooms = new Map<string, Map<string, MemberState>>();
  readonly #opts: PresenceOptions;
  readonly #clock: Clock;

  constructor(options: PresenceOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
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

  has(room: string, memberId: string): boolean {
    return this.#rooms.get(room)?.has(memberId) ?? false;
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
    state.leaveTimer = this.#clock.after(this.#opts.leaveGraceMs, () => {
      state.leaveTimer = null;
      const members = this.#rooms.get(room);
      if (members?.get(state.member.id) !== state || state.connections > 0) return;
      members.delete(state.member.id);
      if (members.size === 0) this.#rooms.delete(room);
      this.#opts.onLeave(room, state.member);
    });
  }

  #cancelLeave(state: MemberState): void {
    state.leaveTimer?.cancel();
    state.leaveTimer = null;
  }
}
