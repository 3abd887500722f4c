/** Pieces both stores share: the JSON text of an event around its seq, and presence from rows. */
import type { EventDraft } from '../protocol.js';
import type { AppendInput, FoundMessage, LoggedMember, RoomEffect, RoomInfo } from './history-store.js';

/**
 * The event's JSON text in two parts, before and after its seq: the store that allocates the seq
 * puts it in between (`head + seq + tail`) without serializing again.
 */
export function splitAroundSeq(draft: EventDraft): [head: string, tail: string] {
  const { type, room, ...rest } = draft;
  const head = `{"type":${JSON.stringify(type)},"room":${JSON.stringify(room)},"seq":`;
  const fields = JSON.stringify(rest);
  return [head, fields === '{}' ? '}' : `,${fields.slice(1)}`];
}

/** Members from each member's latest presence event (join, rename or leave). */
export function presenceFromRows(rows: ReadonlyArray<{ type: string; json: string }>): LoggedMember[] {
  const members: LoggedMember[] = [];
  for (const row of rows) {
    if (row.type === 'leave') continue;
    const { member } = JSON.parse(row.json) as { member: LoggedMember };
    members.push({ id: member.id, name: member.name });
  }
  return members;
}

/** A room's info from its stored columns (moderators: a JSON array of member ids). */
export function roomInfoOf(owner: string | null, topic: string, moderators: string): RoomInfo {
  const roles: RoomInfo['roles'] = {};
  for (const id of JSON.parse(moderators) as string[]) roles[id] = 'moderator';
  if (owner !== null) roles[owner] = 'owner';
  return { topic, roles };
}

/** An edit event of a deleted message, as reads show it: its text erased. */
export function erasedEdit(json: string): string {
  return JSON.stringify({ ...(JSON.parse(json) as object), text: '' });
}

/** A reply to a deleted message, as reads show it: its quote emptied and marked deleted. */
export function erasedQuote(json: string): string {
  const reply = JSON.parse(json) as { replyTo?: { id: string; from: unknown } };
  if (!reply.replyTo) return json;
  return JSON.stringify({
    ...reply,
    replyTo: { id: reply.replyTo.id, from: reply.replyTo.from, text: '', deleted: true },
  });
}

/** The moderators (a JSON array of member ids) after a role effect. */
export function moderatorsAfter(moderators: string, effect: Extract<RoomEffect, { kind: 'role' }>): string {
  const ids = (JSON.parse(moderators) as string[]).filter((id) => id !== effect.member);
  if (effect.role === 'moderator') ids.push(effect.member);
  return JSON.stringify(ids);
}

/**
 * A reply as it must be stored given the message it answers as it is now, inside the append's
 * transaction: when that message was deleted (or went) since the reply was checked, the quote is
 * stored emptied, as a delete would have left it.
 */
export function withQuoteNow(input: AppendInput, answered: FoundMessage | null): AppendInput {
  const draft = input.draft as { replyTo?: { id: string; from: unknown } };
  if (!draft.replyTo) return input;
  if (answered && !(JSON.parse(answered.json) as { deleted?: true }).deleted) return input;
  const { id, from } = draft.replyTo;
  return {
    ...input,
    draft: { ...input.draft, replyTo: { id, from, text: '', deleted: true } } as AppendInput['draft'],
  };
}
