/**
 * `delete`: the author, the owner or a moderator takes a message back. Its text (and everything
 * else it carried) is erased from the store, the edit events' texts and its replies' quotes too;
 * the delete event is logged.
 */
import { timestamp } from '../clock.js';
import type { DeleteFrame, MessageEvent } from '../protocol.js';
import { admit, amend, type Handler, notFound } from './context.js';

export const deleteMessage: Handler<DeleteFrame> = async (peer, frame, ctx) => {
  const { id } = frame;
  if (!(await admit(peer, ctx))) return;
  const { roles } = await ctx.history.roomInfo(peer.room);
  const mayDeleteAny = roles[peer.memberId] !== undefined; // owner or moderator
  const ts = timestamp(ctx.clock);
  let files: string[] = [];
  // its files go with it (404 from then on), erased before the delete event reaches anyone; a
  // failure leaves them to be tried by hand, and is logged
  const eraseFiles = async () => {
    if (files.length === 0) return;
    await ctx.files
      .erase(files)
      .catch((err) =>
        ctx.reportFailure('append', err, { room: peer.room }, "could not erase a deleted message's files"),
      );
  };
  await amend(
    peer,
    ctx,
    id,
    (found) => {
      const message = found && (JSON.parse(found.json) as MessageEvent);
      if (!found || !message || message.deleted) return notFound(id);
      files = (message.files ?? []).map((f) => f.id);
      if (found.memberId !== peer.memberId && !mayDeleteAny) {
        return { code: 'forbidden', message: 'only its author, the owner or a moderator deletes a message' };
      }
      const { type, room, seq, from, clientMsgId } = message;
      const erased: MessageEvent = {
        type,
        room,
        seq,
        id,
        from,
        text: '',
        ts: message.ts,
        ...(clientMsgId === undefined ? {} : { clientMsgId }),
        deleted: true,
      };
      return {
        event: { draft: { type: 'delete', room, id, by: { ...peer.member }, ts }, memberId: peer.memberId, msgId: id },
        message: JSON.stringify(erased),
        state: null, // its reactions go with it
        erase: true,
      };
    },
    undefined,
    eraseFiles,
  );
};
