/**
 * The wire contract (shared PROTOCOL.md, v2): client frame schemas, their parser, and the types of
 * every frame the server sends.
 */
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  CLIENT_MSG_ID_MAX,
  codePoints,
  FILES_MAX,
  isEmoji,
  KICK_MAX_MINUTES,
  MENTIONS_MAX,
  REACTIONS_MAX,
  TEXT_MAX,
  TOPIC_MAX,
  UID_PATTERN,
} from '../shared/rules.js';

export { CLIENT_MSG_ID_MAX, FILES_MAX, isEmoji, KICK_MAX_MINUTES, MENTIONS_MAX, REACTIONS_MAX, TEXT_MAX, TOPIC_MAX };

const ClientMsgId = Type.Optional(Type.String({ minLength: 1, maxLength: CLIENT_MSG_ID_MAX }));

/** Code points of the text a Quote carries. */
export const QUOTE_MAX = 200;

const MessageId = Type.String({ minLength: 1, maxLength: 64 });

export const MessageFrameSchema = Type.Object({
  type: Type.Literal('message'),
  text: Type.String(),
  clientMsgId: ClientMsgId,
  replyTo: Type.Optional(MessageId),
  mentions: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: MENTIONS_MAX })),
  files: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: FILES_MAX })),
});
export const EditFrameSchema = Type.Object({
  type: Type.Literal('edit'),
  id: MessageId,
  text: Type.String(),
  clientMsgId: ClientMsgId,
});
export const DeleteFrameSchema = Type.Object({ type: Type.Literal('delete'), id: MessageId });
export const TopicFrameSchema = Type.Object({ type: Type.Literal('topic'), text: Type.String() });
export const RoleFrameSchema = Type.Object({
  type: Type.Literal('role'),
  member: Type.String({ minLength: 1, maxLength: 64 }),
  role: Type.Union([Type.Literal('moderator'), Type.Literal('member')]),
});
export const KickFrameSchema = Type.Object({
  type: Type.Literal('kick'),
  member: Type.String({ minLength: 1, maxLength: 64 }),
  minutes: Type.Integer({ minimum: 0, maximum: KICK_MAX_MINUTES }),
});
export const ReactFrameSchema = Type.Object({
  type: Type.Literal('react'),
  id: MessageId,
  emoji: Type.String({ minLength: 1, maxLength: 32 }),
  on: Type.Boolean(),
});
export const TypingFrameSchema = Type.Object({ type: Type.Literal('typing') });
export const RenameFrameSchema = Type.Object({ type: Type.Literal('rename'), name: Type.String() });
export const DirectFrameSchema = Type.Object({
  type: Type.Literal('direct'),
  to: Type.String(),
  text: Type.String(),
  clientMsgId: ClientMsgId,
});

/** The query of the WebSocket handshake, `/ws?room=&name=&uid=&since=`, before names are made canonical. */
export const JoinQuerySchema = Type.Object({
  room: Type.String(),
  name: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String({ pattern: UID_PATTERN })),
  since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
});
export type JoinQuery = Static<typeof JoinQuerySchema>;

export type MessageFrame = Static<typeof MessageFrameSchema>;
export type TypingFrame = Static<typeof TypingFrameSchema>;
export type RenameFrame = Static<typeof RenameFrameSchema>;
export type DirectFrame = Static<typeof DirectFrameSchema>;
export type EditFrame = Static<typeof EditFrameSchema>;
export type DeleteFrame = Static<typeof DeleteFrameSchema>;
export type ReactFrame = Static<typeof ReactFrameSchema>;
export type TopicFrame = Static<typeof TopicFrameSchema>;
export type RoleFrame = Static<typeof RoleFrameSchema>;
export type KickFrame = Static<typeof KickFrameSchema>;
export type ClientFrame =
  | MessageFrame
  | TypingFrame
  | RenameFrame
  | DirectFrame
  | EditFrame
  | DeleteFrame
  | ReactFrame
  | TopicFrame
  | RoleFrame
  | KickFrame;

const validators = {
  message: Compile(MessageFrameSchema),
  typing: Compile(TypingFrameSchema),
  rename: Compile(RenameFrameSchema),
  direct: Compile(DirectFrameSchema),
  edit: Compile(EditFrameSchema),
  delete: Compile(DeleteFrameSchema),
  react: Compile(ReactFrameSchema),
  topic: Compile(TopicFrameSchema),
  role: Compile(RoleFrameSchema),
  kick: Compile(KickFrameSchema),
};
type FrameType = keyof typeof validators;

export type ErrorCode =
  | 'bad_request'
  | 'invalid_text'
  | 'invalid_name'
  | 'rate_limited'
  | 'recipient_offline'
  | 'name_taken'
  | 'not_found'
  | 'forbidden'
  | 'banned'
  | 'unavailable';

export interface Refusal {
  code: ErrorCode;
  message: string;
  clientMsgId?: string;
  /** `banned`: when the ban ends. */
  until?: string;
}

export type Parsed = { ok: true; frame: ClientFrame } | ({ ok: false } & Refusal);

const bad = (message: string, clientMsgId?: string): Parsed => ({
  ok: false,
  code: 'bad_request',
  message,
  ...(clientMsgId === undefined ? {} : { clientMsgId }),
});

/** Parse one text frame into a typed client frame, or the refusal to send back. */
export function parseClientFrame(raw: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return bad('a frame must be one JSON object');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return bad('a frame must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  // an error answering a frame that carried a clientMsgId carries it too, even when the frame is bad
  const cmid = typeof obj.clientMsgId === 'string' ? obj.clientMsgId : undefined;
  if (typeof obj.type !== 'string') return bad('a frame needs a string "type"', cmid);
  if (!Object.hasOwn(validators, obj.type)) return bad(`unknown frame type "${obj.type.slice(0, 32)}"`, cmid);
  const validator = validators[obj.type as FrameType];
  if (!validator.Check(value)) {
    const first = validator.Errors(value)[0];
    const where = first?.instancePath ? first.instancePath.slice(1) : 'frame';
    return bad(`${obj.type}: ${where} ${first?.message ?? 'is invalid'}`, cmid);
  }
  return { ok: true, frame: value as ClientFrame };
}

/** In a `u` pattern, \p{Cs} matches only a surrogate that is not part of a pair. */
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** Trim and check a message text: 1..4000 code points (0 when `mayBeEmpty`: files only), valid Unicode. */
export function checkText(
  raw: string,
  mayBeEmpty = false,
): { ok: true; text: string } | { ok: false; message: string } {
  const text = raw.trim();
  if (text.length === 0) return mayBeEmpty ? { ok: true, text } : { ok: false, message: 'the text is empty' };
  if (LONE_SURROGATE_RE.test(text)) return { ok: false, message: 'the text is not valid Unicode (a lone surrogate)' };
  // a string of more than 2 × TEXT_MAX UTF-16 units holds more than TEXT_MAX code points
  if (text.length > TEXT_MAX && (text.length > 2 * TEXT_MAX || codePoints(text) > TEXT_MAX)) {
    return { ok: false, message: `a text has at most ${TEXT_MAX} characters` };
  }
  return { ok: true, text };
}

// ---------------------------------------------------------------- server to client

export interface Member {
  id: string;
  name: string;
}

/** The message a reply answers: its first QUOTE_MAX code points (emptied once it is deleted). */
export interface Quote {
  id: string;
  from: Member;
  text: string;
  deleted?: true;
}

/** An uploaded file, as messages carry it (PROTOCOL.md v2, "Files"). */
export interface ChatFile {
  id: string;
  name: string;
  type: string;
  /** Bytes as served (after metadata was removed). */
  size: number;
  width?: number;
  height?: number;
}

export interface Reaction {
  emoji: string;
  members: string[];
}

export interface MessageEvent {
  type: 'message';
  room: string;
  seq: number;
  id: string;
  from: Member;
  text: string;
  ts: string;
  clientMsgId?: string;
  replyTo?: Quote;
  mentions?: string[];
  files?: ChatFile[];
  /** As reads show it: the time of the last edit. */
  edited?: string;
  /** As reads show it: deleted, its text and everything else erased. */
  deleted?: true;
  reactions?: Reaction[];
}
export interface EditEvent {
  type: 'edit';
  room: string;
  seq: number;
  id: string;
  text: string;
  from: Member;
  ts: string;
  clientMsgId?: string;
}
export interface ReactEvent {
  type: 'react';
  room: string;
  seq: number;
  id: string;
  emoji: string;
  on: boolean;
  from: Member;
  ts: string;
}
export interface TopicEvent {
  type: 'topic';
  room: string;
  seq: number;
  text: string;
  by: Member;
  ts: string;
}
export interface RoleEvent {
  type: 'role';
  room: string;
  seq: number;
  member: Member;
  role: 'moderator' | 'member';
  by: Member;
  ts: string;
}
export interface KickEvent {
  type: 'kick';
  room: string;
  seq: number;
  member: Member;
  by: Member;
  until: string;
  ts: string;
}
export interface DeleteEvent {
  type: 'delete';
  room: string;
  seq: number;
  id: string;
  by: Member;
  ts: string;
}
export interface JoinEvent {
  type: 'join';
  room: string;
  seq: number;
  member: Member;
  ts: string;
}
export interface LeaveEvent {
  type: 'leave';
  room: string;
  seq: number;
  member: Member;
  ts: string;
}
export interface RenameEvent {
  type: 'rename';
  room: string;
  seq: number;
  member: Member;
  previous: string;
  ts: string;
}
/** A logged event: every frame with a seq. */
export type ChatEvent =
  | MessageEvent
  | JoinEvent
  | LeaveEvent
  | RenameEvent
  | EditEvent
  | DeleteEvent
  | ReactEvent
  | TopicEvent
  | RoleEvent
  | KickEvent;

/** An event before the store gave it its seq. */
export type EventDraft =
  | Omit<MessageEvent, 'seq'>
  | Omit<JoinEvent, 'seq'>
  | Omit<LeaveEvent, 'seq'>
  | Omit<RenameEvent, 'seq'>
  | Omit<EditEvent, 'seq'>
  | Omit<DeleteEvent, 'seq'>
  | Omit<ReactEvent, 'seq'>
  | Omit<TopicEvent, 'seq'>
  | Omit<RoleEvent, 'seq'>
  | Omit<KickEvent, 'seq'>;

export interface TypingFrameOut {
  type: 'typing';
  room: string;
  member: Member;
}
export interface DirectFrameOut {
  type: 'direct';
  id: string;
  from: Member;
  to: Member;
  text: string;
  ts: string;
  clientMsgId?: string;
}
export interface WelcomeFrame {
  type: 'welcome';
  room: string;
  you: Member;
  /** Members present, including those in their leave grace period. */
  members: Member[];
  /** The latest events up to `seq` (or those after the handshake's `since`). */
  history: ChatEvent[];
  seq: number;
  /** Events between `since` and the first of `history` were left out (page them over HTTP). */
  truncated: boolean;
  /** The room's topic (`""` when none). */
  topic: string;
  /** Members whose role is not `member`, by id. */
  roles: Record<string, 'owner' | 'moderator'>;
  /** The newest direct messages this member sent or received in the room, ascending by time. */
  directs: DirectFrameOut[];
}
export interface ErrorFrameOut {
  type: 'error';
  code: ErrorCode;
  message: string;
  clientMsgId?: string;
  until?: string;
}

export function errorFrame(refusal: Refusal): string {
  const frame: ErrorFrameOut = { type: 'error', code: refusal.code, message: refusal.message };
  if (refusal.clientMsgId !== undefined) frame.clientMsgId = refusal.clientMsgId;
  if (refusal.until !== undefined) frame.until = refusal.until;
  return JSON.stringify(frame);
}
