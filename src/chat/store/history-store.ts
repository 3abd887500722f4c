/**
 * HistoryStore: the durable log of each room, and the only source of `seq`. Every implementation
 * passes the same contract suite (test/history-store.contract.ts).
 */
import type { Phrase } from '../../shared/search.js';
import type { EventDraft, Refusal } from '../protocol.js';

/** An event as stored: its seq and its JSON text, sent as is to every client. */
export interface StoredEvent {
  seq: number;
  json: string;
}

export interface AppendResult {
  event: StoredEvent;
  /** True when the clientMsgId was seen before: `event` is the original, nothing new was stored. */
  duplicate: boolean;
}

export interface AppendInput {
  draft: EventDraft;
  /** Who the event is about or from; the idempotency key is (room, memberId, clientMsgId). */
  memberId: string;
  clientMsgId?: string;
  /** The message an edit, delete or react is about (a message's own id is taken from its draft). */
  msgId?: string;
  /** The message a reply answers (its quote is emptied when that message is deleted). */
  replyTo?: string;
  /** What the event changes in the room, applied in the same transaction. */
  effect?: RoomEffect;
}

/** A change to what the store keeps of a room besides its log. */
export type RoomEffect =
  | { kind: 'topic'; text: string }
  | { kind: 'role'; member: string; role: 'moderator' | 'member' }
  | { kind: 'ban'; member: string; until: number };

/** A message as the log holds it now. */
export interface FoundMessage {
  seq: number;
  /** The author's member id. */
  memberId: string;
  /** Its JSON text as reads show it (edited text, `deleted`, reactions). */
  json: string;
  /** What only the server keeps of it (the order its reactions came in), as the last amendment left it. */
  state: string | null;
}

/** What `amend` stores: the event saying what changed, and the message as it is after it. */
export interface Amendment {
  event: AppendInput;
  /** The message's new JSON text (its seq unchanged). */
  message: string;
  /** Its new server-side state (null: none); unchanged when absent. */
  state?: string | null;
  /** The message was deleted: its edit events are read with `text: ""`, its replies' quotes emptied. */
  erase?: boolean;
}

/** Decide a change from the message as it is (null: no such message in the room). */
export type Change = (found: FoundMessage | null) => Amendment | Refusal | null;

/** A search that could not be answered now (too slow, too many at once): the caller may try again. */
export class SearchUnavailable extends Error {}

export interface SearchOptions {
  /** Only messages with seq < beforeSeq. @default no bound */
  beforeSeq?: number;
  /** At most this many. */
  limit: number;
}

export interface ReadOptions {
  /** Only events with seq > afterSeq. @default 0 */
  afterSeq?: number;
  /** Only events with seq < beforeSeq. @default no bound */
  beforeSeq?: number;
  /** At most this many. */
  limit: number;
  /** Which end to keep when more than `limit` match; the result is ascending either way. @default 'newest' */
  keep?: 'newest' | 'oldest';
}

/** A member whose last presence event in a room is a join (or rename) with no leave after it. */
export interface LoggedMember {
  id: string;
  name: string;
}

/** A delivered direct message, kept for its two members only (never part of the room's log). */
export interface KeptDirect {
  room: string;
  id: string;
  fromId: string;
  toId: string;
  /** When it was sent (ms): the order of `directsOf`, and what retention goes by. */
  at: number;
  /** The `direct` frame as its members got it. */
  json: string;
}

/** What a welcome says of a room besides its log: its topic, and who has a role other than member. */
export interface RoomInfo {
  topic: string;
  roles: Record<string, 'owner' | 'moderator'>;
}

export interface HistoryStore {
  /** Store one event durably and give it the room's next seq; idempotent on clientMsgId. */
  append(input: AppendInput): Promise<AppendResult>;
  /** Events of a room, ascending by seq. */
  read(room: string, options: ReadOptions): Promise<StoredEvent[]>;
  /**
   * The room's messages whose current text matches every phrase (src/shared/search.ts), newest
   * first, as they are now; deleted messages never (their terms are erased from the index).
   */
  search(room: string, phrases: readonly Phrase[], options: SearchOptions): Promise<StoredEvent[]>;
  /** The room's latest seq (0 for a room with no events). */
  latestSeq(room: string): Promise<number>;
  /** Members the log says are in the room (joined, not left), with their latest names. */
  loggedMembers(room: string): Promise<LoggedMember[]>;
  /** Those of `ids` that ever joined the room. */
  joinedOf(room: string, ids: readonly string[]): Promise<Set<string>>;
  /** The message of the room with this id, as it is now; null when there is none. */
  findMessage(room: string, id: string): Promise<FoundMessage | null>;
  /**
   * Change a message and log the event saying so, in one transaction, deciding from the message as
   * it is inside it (so concurrent changes never undo each other): `change` returns the amendment,
   * a refusal (nothing stored), or null (nothing to do: nothing stored, nothing said).
   */
  amend(room: string, id: string, change: Change): Promise<AppendResult | Refusal | null>;
  /** The room's topic and roles (the owner: the member whose join is seq 1). */
  roomInfo(room: string): Promise<RoomInfo>;
  /** When the member's ban from the room ends (ms); 0 when it has none. */
  bannedUntil(room: string, memberId: string): Promise<number>;
  /** Keep a delivered direct message for its two members. */
  keepDirect(direct: KeptDirect): Promise<void>;
  /** JSON texts of the newest `limit` direct messages the member sent or received in the room, ascending by time. */
  directsOf(room: string, memberId: string, limit: number): Promise<string[]>;
  /**
   * Rooms in the store (those whose log ever held a presence event, as every room's starts with a
   * join), in name order, after `after` (exclusive), at most `limit`: to walk them in pages.
   */
  rooms(after: string, limit: number): Promise<string[]>;
  /**
   * Rooms, in name order after `after`, at most `limit`, that may be erased: their log holds no
   * message, every join in it has its leave, and their last presence event (join, leave, rename)
   * is older than `before` (ms).
   */
  emptyRooms(before: number, after: string, limit: number): Promise<string[]>;
  /** Erase a room (its events, kept direct messages and seq) if it still is as `emptyRooms` describes; true when erased. */
  eraseEmptyRoom(room: string, before: number): Promise<boolean>;
  /**
   * Erase the room's events whose `ts` is older than `before` (ms) among its `limit` oldest (and
   * its kept direct messages older than that), and say how many events went. The room keeps its
   * seq: the next event follows the last one erased.
   */
  eraseOldEvents(room: string, before: number, limit: number): Promise<number>;
  /** Rooms whose latest seq is cached in memory (a bounded cache; 0 for a store without one). */
  readonly cachedRooms: number;
  /**
   * The deployment's member-id secret: the one stored already, or `candidate`, stored now. Every
   * instance sharing the store gets the same one.
   */
  secret(candidate: string): Promise<string>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
