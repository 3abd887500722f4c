/** `typing`: shown to the others in the room for a moment; not logged. */
import type { TypingFrame, TypingFrameOut } from '../protocol.js';
import type { Handler } from './context.js';

export const typing: Handler<TypingFrame> = (peer, _frame, ctx) => {
  const out: TypingFrameOut = { type: 'typing', room: peer.room, member: { ...peer.member } };
  ctx.hub.ephemeral(peer.room, JSON.stringify(out), undefined, peer.memberId);
};
