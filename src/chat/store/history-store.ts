/**
 * HistoryStore: the durable log of each room, and the only source of `seq`. Every implementation
 * passes the same contract suite (test/history-store.contract.ts).
 */
import type { EventDraft } from '../protocol.js';

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
  /** The room's latest seq (0 for a room with no events). */
  latestSeq(room: string): Promise<number>;
  /** Members the log says are in the room (joined, not left), with their latest names. */
  loggedMembers(room: string): Promise<LoggedMember[]>;
  /** The room's topic and roles (the owner: the member whose join is seq 1). */
  roomInfo(room: string): Promise<RoomInfo>;
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
