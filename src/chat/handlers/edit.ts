/**
 * `edit`: the author changes a message's text. The edit event is logged and the stored message
 * shows the new text and `edited` from then on; an edit to the same text logs and says nothing.
 */
import { timestamp } from '../clock.js';
import { checkText, type EditFrame, type MessageEvent } from '../protocol.js';
import { admit, amend, type Handler, notFound } from './context.js';

export const edit: Handler<EditFrame> = async (peer, frame, ctx) => {
  const { clientMsgId, id } = frame;
  const text = checkText(frame.text);
  if (!text.ok) return peer.refuse({ code: 'invalid_text', message: text.message, clientMsgId });
  if (!(await admit(peer, ctx, clientMsgId))) return;
  const ts = timestamp(ctx.clock);
  await amend(
    peer,
    ctx,
    id,
    (found) => {
      const message = found && (JSON.parse(found.json) as MessageEvent);
      if (!found || !message || message.deleted) return notFound(id, clientMsgId);
      if (found.memberId !== peer.memberId) {
        return {
          code: 'forbidden',
          message: 'only its author edits a message',
          ...(clientMsgId ? { clientMsgId } : {}),
        };
      }
      if (message.text === text.text) return null;
      return {
        event: {
          draft: {
            type: 'edit',
            room: peer.room,
            id,
            text: text.text,
            from: { ...peer.member },
            ts,
            ...(clientMsgId === undefined ? {} : { clientMsgId }),
          },
          memberId: peer.memberId,
          clientMsgId,
          msgId: id,
        },
        message: JSON.stringify({ ...message, text: text.text, edited: ts }),
      };
    },
    clientMsgId,
  );
};
