/** The embedded PresenceTracker: one process's connections, with a grace timer per absent member. */

import { nameKey, suffixedName } from '../../shared/rules.js';
import { type Clock, systemClock, type Timer } from '../clock.js';
import type { Member } from '../protocol.js';
import { NAME_CHOICES, type PresenceOptions, type PresenceTracker } from './presence.js';

interface MemberState {
  member: Member;
  connections: number;
  leaveTimer: Timer | null;
}

/** A room's members by id, and who holds each name (by `nameKey`). */
interface RoomState {
  members: Map<string, MemberState>;
  names: Map<string, string>;
}

export class MemoryPresence implements PresenceTracker {
  readonly #rooms = new Map<string, RoomState>();
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
    const state = this.#room(room);
    const known = state.members.get(member.id);
    if (known) {
      known.connections++;
      this.#cancelLeave(known);
      return { member: known.member, entered: false };
    }
    const fresh = { member: { id: member.id, name: this.#claimFree(state, member) }, connections: 1, leaveTimer: null };
    state.members.set(member.id, fresh);
    return { member: fresh.member, entered: true };
  }

  /** Give the member the first free choice of its name, and record it as taken. */
  #claimFree(state: RoomState, member: Member): string {
    for (let k = 1; k <= NAME_CHOICES; k++) {
      const name = suffixedName(member.name, k);
      const key = nameKey(name);
      if (state.names.has(key)) continue;
      state.names.set(key, member.id);
      return name;
    }
    return member.name; // a thousand members share the name: one more does no harm
  }

  rename(room: string, member: Member): boolean {
    const state = this.#rooms.get(room);
    const known = state?.members.get(member.id);
    if (!state || !known) return false;
    const holder = state.names.get(nameKey(member.name));
    if (holder !== undefined && holder !== member.id) return false;
    this.#setName(state, known, member.name);
    return true;
  }

  #setName(state: RoomState, known: MemberState, name: string): void {
    const old = nameKey(known.member.name);
    if (state.names.get(old) === known.member.id) state.names.delete(old);
    known.member.name = name;
    state.names.set(nameKey(name), known.member.id);
  }

  /** A connection of the member closed; its last one starts the grace period. */
  disconnect(room: string, memberId: string): void {
    const state = this.#rooms.get(room)?.members.get(memberId);
    if (!state) return;
    state.connections = Math.max(0, state.connections - 1);
    if (state.connections === 0) this.#startLeave(room, state);
  }

  /**
   * Members the log says are in a room this process has not seen yet (it restarted): they are
   * treated as just disconnected, so a reconnect inside the grace period logs nothing.
   */
  restore(room: string, logged: readonly Member[]): void {
    const state = this.#room(room);
    for (const member of logged) {
      if (state.members.has(member.id)) continue;
      const restored: MemberState = { member: { ...member }, connections: 0, leaveTimer: null };
      state.members.set(member.id, restored);
      if (!state.names.has(nameKey(member.name))) state.names.set(nameKey(member.name), member.id);
      this.#startLeave(room, restored);
    }
  }

  /** The member of a room, or undefined when it is not in it. */
  get(room: string, memberId: string): Member | undefined {
    return this.#rooms.get(room)?.members.get(memberId)?.member;
  }

  has(room: string, memberId: string): boolean {
    return this.#rooms.get(room)?.members.has(memberId) ?? false;
  }

  online(room: string, memberId: string): Member | undefined {
    const state = this.#rooms.get(room)?.members.get(memberId);
    return state && state.connections > 0 ? state.member : undefined;
  }

  renamed(room: string, member: Member): void {
    const state = this.#rooms.get(room);
    const known = state?.members.get(member.id);
    if (state && known) this.#setName(state, known, member.name);
  }

  /** Members of a room (including those in their grace period: they have not left). */
  members(room: string): Member[] {
    const state = this.#rooms.get(room);
    return state ? [...state.members.values()].map((s) => s.member) : [];
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get memberCount(): number {
    let n = 0;
    for (const state of this.#rooms.values()) n += state.members.size;
    return n;
  }

  /** Stop every grace timer (shutdown): members who were present stay so in the log. */
  close(): void {
    for (const { members } of this.#rooms.values()) for (const state of members.values()) this.#cancelLeave(state);
    this.#rooms.clear();
  }

  #room(room: string): RoomState {
    let state = this.#rooms.get(room);
    if (!state) {
      state = { members: new Map(), names: new Map() };
      this.#rooms.set(room, state);
    }
    return state;
  }

  #startLeave(room: string, state: MemberState): void {
    this.#cancelLeave(state);
    state.leaveTimer = this.#clock.after(this.#opts.leaveGraceMs, () => {
      state.leaveTimer = null;
      const roomState = this.#rooms.get(room);
      if (roomState?.members.get(state.member.id) !== state || state.connections > 0) return;
      roomState.members.delete(state.member.id);
      const key = nameKey(state.member.name);
      if (roomState.names.get(key) === state.member.id) roomState.names.delete(key);
      if (roomState.members.size === 0) this.#rooms.delete(room);
      this.#opts.onLeave(room, state.member);
    });
  }

  #cancelLeave(state: MemberState): void {
    state.leaveTimer?.cancel();
    state.leaveTimer = null;
  }
}
