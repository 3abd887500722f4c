/** Pieces both stores share: the JSON text of an event around its seq, and presence from rows. */
import { indexText, type Phrase } from '../../shared/search.js';
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

/** What a stored message is indexed under (src/shared/search.ts); '' for a deleted one or one without text. */
export function wordsOf(json: string): string {
  const { text } = JSON.parse(json) as { text?: unknown };
  return typeof text === 'string' ? indexText(text) : '';
}

/** A term quoted for a tsvector or tsquery literal. */
const lexeme = (term: string): string => `'${term.replace(/['\\]/g, (c) => c + c)}'`;

/**
 * Indexed words as a PostgreSQL tsvector literal: each term with its positions (1-based, as far as
 * PostgreSQL counts: 16383), so phrases match terms one after the other. null for no words.
 */
export function tsvectorOf(words: string): string | null {
  if (words === '') return null;
  const positions = new Map<string, number[]>();
  for (const [i, term] of words.split(' ').entries()) {
    const at = positions.get(term);
    const pos = Math.min(i + 1, 16383);
    if (at) at.push(pos);
    else positions.set(term, [pos]);
  }
  return [...positions].map(([term, at]) => `${lexeme(term)}:${at.join(',')}`).join(' ');
}

/** A query's phrases as a PostgreSQL tsquery literal: `'a' <-> 'b' & 'c':*`. */
export function tsqueryOf(phrases: readonly Phrase[]): string {
  return phrases
    .map(
      ({ terms, prefix }) =>
        `(${terms.map((t, k) => lexeme(t) + (prefix && k === terms.length - 1 ? ':*' : '')).join(' <-> ')})`,
    )
    .join(' & ');
}
