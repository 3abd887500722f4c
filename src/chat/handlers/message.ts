/** `message`: a text for the room, logged; its own copy is the sender's acknowledgement. */
import { randomUUID } from 'node:crypto';
import { timestamp } from '../clock.js';
import { checkText, type MessageFrame } from '../protocol.js';
import { admit, type Handler, store } from './context.js';

export const message: Handler<MessageFrame> = async (peer, frame, ctx) => {
  const startedAt = performance.now();
  const { clientMsgId } = frame;
  const text = checkText(frame.text);
  if (!text.ok) return peer.refuse({ code: 'invalid_text', message: text.message, clientMsgId });
  if (!(await admit(peer, ctx, clientMsgId))) return;
  const stored = await store(peer, ctx, {
    draft: {
      type: 'message',
      room: peer.room,
      id: randomUUID(),
      from: { ...peer.member },
      text: text.text,
      ts: timestamp(ctx.clock),
      ...(clientMsgId === undefined ? {} : { clientMsgId }),
    },
    memberId: peer.memberId,
    clientMsgId,
  });
  if (!stored) return;
  if (stored.duplicate) {
    peer.send(stored.event.json); // a retry: the original event, to the retrying connection only
    return;
  }
  ctx.hub.publish(peer.room, stored.event);
  ctx.observer.messageLatency?.((performance.now() - startedAt) / 1000);
};
