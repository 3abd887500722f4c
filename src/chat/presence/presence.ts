/** PresenceTracker, which both implementations (memory.ts, redis.ts) satisfy: test/presence.contract.ts. */
import type { Clock } from '../clock.js';
import type { Member } from '../protocol.js';

type Awaitable<T> = T | Promise<T>;

/** Members over all rooms of a room → member map (for the metrics of either presence). */
export function countMembers(rooms: ReadonlyMap<string, ReadonlyMap<string, unknown>>): number {
  let n = 0;
  for (const members of rooms.values()) n += members.size;
  return n;
}

/**
 * Who is in each room: a member (uid) is in from its first live connection until its last one has
 * been gone for the leave grace period, so tabs and quick reconnects are one presence. Answers may
 * come at once or from a shared store.
 */
export interface PresenceTracker {
  /**
   * A connection of `member` opened. Returns the member as the room knows it (an existing member
   * keeps its name; every local tab shares the returned object) and whether it just entered the
   * room (a join to log). A member entering with a name another present member has gets the
   * first free of `NAME (2)`, `NAME (3)`, … (see `suffixedName`).
   */
  connect(room: string, member: Member): Awaitable<{ member: Member; entered: boolean }>;
  /** A connection of the member closed; its last one anywhere starts the grace period. */
  disconnect(room: string, memberId: string): Awaitable<void>;
  /** Members of a room, including those in their grace period (they have not left). */
  members(room: string): Awaitable<Member[]>;
  /** Whether the member is in the room: connected (anywhere) or in its grace period. */
  has(room: string, memberId: string): Awaitable<boolean>;
  /** The member, when it has a live connection in the room (anywhere). */
  online(room: string, memberId: string): Awaitable<Member | undefined>;
  /**
   * Claim a new name for a member of the room: false, changing nothing, when another present
   * member has it (names compare by `nameKey`); else the member has it from now on.
   */
  rename(room: string, member: Member): Awaitable<boolean>;
  /** Another instance renamed the member (its rename is logged): take the name it claimed. */
  renamed(room: string, member: Member): Awaitable<void>;
  /** Members the log shows present in a room this process has not seen yet (after a restart). */
  restore(room: string, logged: readonly Member[]): Awaitable<void>;
  /** Rooms and members with a connection here, for metrics. */
  readonly roomCount: number;
  readonly memberCount: number;
  close(): Awaitable<void>;
}

/** Names a member asking for `name` may get, in order (a room has fewer members than this). */
export const NAME_CHOICES = 1000;

/** What every presence is built with. */
export interface PresenceOptions {
  /** How long a member with no connection stays before it leaves. */
  leaveGraceMs: number;
  /** The grace period of `member` ran out: log its leave. */
  onLeave(room: string, member: Member): void;
  /**
   * Times the grace periods (and the cluster heartbeat); tests pass one they advance by hand.
   * @default systemClock
   */
  clock?: Clock;
}
