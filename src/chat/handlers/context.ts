/**
 * What a frame handler works with: the connection that sent the frame (`Peer`) and the services
 * of the chat (`ChatContext`), plus the two steps most handlers share: taking a rate-limit token
 * and storing an event. A handler is `(peer, frame, ctx) => Promise<void>`, one file per frame type.
 */
import type { FileStore } from '../../files/file-store.js';
import type { Clock } from '../clock.js';
import type { PresenceTracker } from '../presence/presence.js';
import type { Member, MessageEvent, Refusal } from '../protocol.js';
import type { RateLimit } from '../rate-limit/rate-limit.js';
import type { RoomHub } from '../room-hub.js';
import type { AppendInput, AppendResult, Change, HistoryStore } from '../store/history-store.js';
import type { ChatObserver, ReportFailure } from '../types.js';

/** The connection a frame came from. */
export interface Peer {
  readonly room: string;
  /** The member as the room knows it (shared by its tabs: a rename shows in all of them). */
  readonly member: Member;
  readonly memberId: string;
  /** The client's address, whose shared bucket the member's actions also take from. */
  readonly address: string;
  /** Send a frame that is not part of the log to this connection only. */
  send(json: string): void;
  /** Answer the frame with an error (and count it against the bad-frame budget where it is one). */
  refuse(refusal: Refusal): void;
}

export interface ChatContext {
  readonly hub: RoomHub;
  /** The log, for what handlers look up in it (messages by id, who joined, roles). */
  readonly history: HistoryStore;
  /** Uploaded files: attached by messages, erased with them. */
  readonly files: FileStore;
  readonly presence: PresenceTracker;
  readonly limiter: RateLimit;
  /** The bucket every member from one address shares, taken with the member's own. */
  readonly addressLimiter: RateLimit;
  /** One token a second per member for relaying `typing`. */
  readonly typingLimiter: RateLimit;
  readonly clock: Clock;
  readonly observer: ChatObserver;
  readonly reportFailure: ReportFailure;
  /** Tokens per second, for the refusal's message. */
  readonly rateLimitPerSec: number;
}

export type Handler<F> = (peer: Peer, frame: F, ctx: ChatContext) => Promise<void> | void;

/** The key of a member's rate-limit bucket. */
export const limitKey = (room: string, memberId: string) => `${room}\0${memberId}`;

/**
 * Take a rate-limit token for the peer's member, and one of its address's shared bucket; refuse
 * the frame when either is empty.
 */
export async function admit(peer: Peer, ctx: ChatContext, clientMsgId?: string): Promise<boolean> {
  if (!(await ctx.limiter.take(limitKey(peer.room, peer.memberId)))) {
    peer.refuse({
      code: 'rate_limited',
      message: `slow down: at most ${ctx.rateLimitPerSec} messages a second`,
      clientMsgId,
    });
    return false;
  }
  if (await ctx.addressLimiter.take(peer.address)) return true;
  peer.refuse({ code: 'rate_limited', message: 'slow down: too many messages from your address', clientMsgId });
  return false;
}

/** A message of the room, parsed, when it exists and is not deleted. */
export async function liveMessage(ctx: ChatContext, room: string, id: string): Promise<MessageEvent | null> {
  const found = await ctx.history.findMessage(room, id);
  if (!found) return null;
  const message = JSON.parse(found.json) as MessageEvent;
  return message.deleted ? null : message;
}

export const notFound = (id: string, clientMsgId?: string): Refusal => ({
  code: 'not_found',
  message: `no message ${id.slice(0, 64)} in this room`,
  ...(clientMsgId === undefined ? {} : { clientMsgId }),
});

/**
 * Amend a message through the room hub and deliver the event; a refusal goes back to the peer, a
 * retry of an acknowledged change gets the original event. False when nothing was logged.
 * `beforeDelivery` runs once the change is stored and before anyone hears of it (a deletion
 * erases its files there, so whoever sees the delete event finds them gone).
 */
export async function amend(
  peer: Peer,
  ctx: ChatContext,
  id: string,
  change: Change,
  clientMsgId?: string,
  beforeDelivery?: () => Promise<void>,
): Promise<boolean> {
  if (ctx.hub.closing) {
    peer.refuse({ code: 'unavailable', message: 'the server is restarting: retry', clientMsgId });
    return false;
  }
  let result: Awaited<ReturnType<HistoryStore['amend']>>;
  try {
    result = await ctx.hub.amend(peer.room, id, change);
  } catch (err) {
    ctx.reportFailure('append', err, { room: peer.room }, 'amend failed');
    peer.refuse({ code: 'unavailable', message: 'could not store the change: retry', clientMsgId });
    return false;
  }
  if (result === null) return false;
  if ('code' in result) {
    peer.refuse(result);
    return false;
  }
  if (result.duplicate) {
    peer.send(result.event.json);
    return false;
  }
  await beforeDelivery?.();
  ctx.hub.publish(peer.room, result.event);
  return true;
}

/** Store an event for a peer's frame; when that fails (or the server is closing) the peer is told to retry. */
export async function store(peer: Peer, ctx: ChatContext, input: AppendInput): Promise<AppendResult | null> {
  if (ctx.hub.closing) {
    peer.refuse({ code: 'unavailable', message: 'the server is restarting: retry', clientMsgId: input.clientMsgId });
    return null;
  }
  try {
    return await ctx.hub.append(input);
  } catch (err) {
    ctx.reportFailure('append', err, { room: peer.room }, 'append failed');
    peer.refuse({
      code: 'unavailable',
      message: 'could not store the message: retry',
      clientMsgId: input.clientMsgId,
    });
    return null;
  }
}
