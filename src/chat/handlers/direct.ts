/**
 * `direct`: a text for one member present in the room; goes to its tabs and the sender's. Not
 * logged: kept for its two members only (their welcome's `directs`), before it is delivered.
 */
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
  const json = JSON.stringify(out);
  try {
    await ctx.hub.keepDirect({
      room: peer.room,
      id: out.id,
      fromId: peer.memberId,
      toId: to.id,
      at: ctx.clock.now(),
      json,
    });
  } catch (err) {
    ctx.reportFailure('append', err, { room: peer.room }, 'could not keep a direct message');
    return peer.refuse({ code: 'unavailable', message: 'could not send the direct message: retry', clientMsgId });
  }
  const recipients = to.id === peer.memberId ? [to.id] : [to.id, peer.memberId];
  ctx.hub.ephemeral(peer.room, json, recipients);
};
