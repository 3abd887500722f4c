/**
 * `react`: a member adds (`on`) or takes back one emoji on a message. Reads show the reactions
 * aggregated: per emoji, in the order it was first used (an emoji whose last reaction went comes
 * back at the end), the members reacting now. The order is kept in the message's server-side
 * state (each reaction numbered as it came); a react that changes nothing logs nothing.
 */
import { timestamp } from '../clock.js';
import { isEmoji, type MessageEvent, REACTIONS_MAX, type ReactFrame, type Reaction } from '../protocol.js';
import { admit, amend, type Handler, notFound } from './context.js';

/** One member's reaction, numbered in the order reactions came in; `since`: when its emoji was last first used. */
interface Given {
  emoji: string;
  member: string;
  n: number;
  since: number;
}

/**
 * Per emoji in the order it was first used (one whose last reaction went is used anew when it
 * comes back), its members in the order they reacted.
 */
export function aggregate(given: readonly Given[]): Reaction[] {
  const byEmoji = new Map<string, { since: number; members: string[] }>();
  for (const g of [...given].sort((a, b) => a.n - b.n)) {
    const entry = byEmoji.get(g.emoji);
    if (entry) entry.members.push(g.member);
    else byEmoji.set(g.emoji, { since: g.since, members: [g.member] });
  }
  return [...byEmoji].sort(([, a], [, b]) => a.since - b.since).map(([emoji, { members }]) => ({ emoji, members }));
}

export const react: Handler<ReactFrame> = async (peer, frame, ctx) => {
  const { id, emoji, on } = frame;
  if (!isEmoji(emoji)) return peer.refuse({ code: 'bad_request', message: 'emoji: one emoji, as one character' });
  if (!(await admit(peer, ctx))) return;
  const ts = timestamp(ctx.clock);
  await amend(peer, ctx, id, (found) => {
    const message = found && (JSON.parse(found.json) as MessageEvent);
    if (!found || !message || message.deleted) return notFound(id);
    const given = found.state ? (JSON.parse(found.state) as { reactions: Given[] }).reactions : [];
    const mine = given.findIndex((g) => g.emoji === emoji && g.member === peer.memberId);
    if (on === mine >= 0) return null; // already so: nothing changes
    let next: Given[];
    if (on) {
      const emoji20 = new Set(given.map((g) => g.emoji));
      if (!emoji20.has(emoji) && emoji20.size >= REACTIONS_MAX) {
        return { code: 'bad_request', message: `a message has at most ${REACTIONS_MAX} different emoji` };
      }
      const n = Math.max(0, ...given.map((g) => g.n)) + 1;
      const since = given.find((g) => g.emoji === emoji)?.since ?? n;
      next = [...given, { emoji, member: peer.memberId, n, since }];
    } else {
      next = given.filter((_, i) => i !== mine);
    }
    const { reactions: _old, ...rest } = message;
    const reactions = aggregate(next);
    return {
      event: {
        draft: { type: 'react', room: peer.room, id, emoji, on, from: { ...peer.member }, ts },
        memberId: peer.memberId,
        msgId: id,
      },
      message: JSON.stringify(reactions.length > 0 ? { ...rest, reactions } : rest),
      state: JSON.stringify({ reactions: next }),
    };
  });
};
