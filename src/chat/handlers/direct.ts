/** `direct`: a text for one member present in the room; goes to its tabs and the sender's, not logged. */
import { randomUUID } from 'node:crypto';
import { timestamp } from '../clock.js';
import { checkText, type DirectFrame, type DirectFrameOut } from '../protocol.js';
import { admit, type Handler } from './context.js';

export const direct: Handler<DirectFrame> = async (peer, frame, ctx) => {
  const { clientMsgId } = frame;
  const text = checkText(frame.text);
  if (!text.ok) return peer.refuse({ code: 'invalid_text', message: text.message, clientMsgId });
  const to = await ctx.presence.online(peer.room, frame.to);
  if (!to) {
    return peer.refuse({
      code: 'recipient_offline',
      message: 'that member is not in this room right now',
      clientMsgId,
    });
  }
  if (!(await admit(peer, ctx, clientMsgId))) return;
  const out: DirectFrameOut = {
    type: 'direct',
    id: randomUUID(),
    from: { ...peer.member },
    to: { ...to },
    text: text.text,
    ts: timestamp(ctx.clock),
    ...(clientMsgId === undefined ? {} : { clientMsgId }),
  };
  const recipients = to.id === peer.memberId ? [to.id] : [to.id, peer.memberId];
  ctx.hub.ephemeral(peer.room, JSON.stringify(out), recipients);
};
