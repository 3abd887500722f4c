/** Pieces both stores share: the JSON text of an event around its seq, and presence from rows. */
import type { EventDraft } from '../protocol.js';
import type { LoggedMember, RoomInfo } from './history-store.js';

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
