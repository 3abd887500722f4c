/** `typing`: shown to the others in the room for a moment; not logged. At most one a second per member is relayed. */
import type { TypingFrame, TypingFrameOut } from '../protocol.js';
import { type Handler, limitKey } from './context.js';

export const typing: Handler<TypingFrame> = async (peer, _frame, ctx) => {
  // the rest are dropped without a reply: a client repeats typing anyway
  if (!(await ctx.typingLimiter.take(limitKey(peer.room, peer.memberId)))) return;
  const out: TypingFrameOut = { type: 'typing', room: peer.room, member: { ...peer.member } };
  ctx.hub.ephemeral(peer.room, JSON.stringify(out), undefined, peer.memberId);
};
