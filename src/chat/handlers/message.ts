/**
 * `message`: a text for the room, logged; its own copy is the sender's acknowledgement. A reply
 * carries the Quote of the message it answers; mentions keep the ids of members who ever joined.
 */
import { randomUUID } from 'node:crypto';
import { timestamp } from '../clock.js';
import { type ChatFile, checkText, type MessageFrame, QUOTE_MAX, type Quote } from '../protocol.js';
import { admit, type Handler, liveMessage, notFound, store } from './context.js';

export const message: Handler<MessageFrame> = async (peer, frame, ctx) => {
  const startedAt = performance.now();
  const { clientMsgId } = frame;
  const fileIds = frame.files ?? [];
  const text = checkText(frame.text, fileIds.length > 0);
  if (!text.ok) return peer.refuse({ code: 'invalid_text', message: text.message, clientMsgId });
  if (!(await admit(peer, ctx, clientMsgId))) return;
  let replyTo: Quote | undefined;
  let mentions: string[] | undefined;
  try {
    if (frame.replyTo !== undefined) {
      const original = await liveMessage(ctx, peer.room, frame.replyTo);
      if (!original) return peer.refuse(notFound(frame.replyTo, clientMsgId));
      replyTo = { id: original.id, from: original.from, text: [...original.text].slice(0, QUOTE_MAX).join('') };
    }
    if (frame.mentions !== undefined && frame.mentions.length > 0) {
      const asked = [...new Set(frame.mentions)];
      const joined = await ctx.history.joinedOf(peer.room, asked);
      const kept = asked.filter((id) => joined.has(id));
      if (kept.length > 0) mentions = kept;
    }
  } catch (err) {
    ctx.reportFailure('append', err, { room: peer.room }, 'could not look up what a message refers to');
    return peer.refuse({ code: 'unavailable', message: 'could not store the message: retry', clientMsgId });
  }
  const id = randomUUID();
  let files: ChatFile[] | undefined;
  if (fileIds.length > 0) {
    try {
      files = (await ctx.files.attach(fileIds, peer.room, peer.memberId, id)) ?? undefined;
    } catch (err) {
      ctx.reportFailure('append', err, { room: peer.room }, 'could not attach files');
      return peer.refuse({ code: 'unavailable', message: 'could not store the message: retry', clientMsgId });
    }
    if (!files) {
      return peer.refuse({
        code: 'bad_request',
        message: 'files: only your own uploads to this room that no message holds yet',
        clientMsgId,
      });
    }
  }
  const stored = await store(peer, ctx, {
    draft: {
      type: 'message',
      room: peer.room,
      id,
      from: { ...peer.member },
      text: text.text,
      ts: timestamp(ctx.clock),
      ...(clientMsgId === undefined ? {} : { clientMsgId }),
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(mentions === undefined ? {} : { mentions }),
      ...(files === undefined ? {} : { files }),
    },
    memberId: peer.memberId,
    clientMsgId,
    replyTo: replyTo?.id,
  });
  if (!stored || stored.duplicate) {
    // not stored, or a retry answered with the original: these files are free again
    if (files)
      await ctx.files
        .detach(fileIds, id)
        .catch((err) => ctx.reportFailure('append', err, { room: peer.room }, 'could not detach files'));
  }
  if (!stored) return;
  if (stored.duplicate) {
    peer.send(stored.event.json); // a retry: the original event, to the retrying connection only
    return;
  }
  ctx.hub.publish(peer.room, stored.event);
  ctx.observer.messageLatency?.((performance.now() - startedAt) / 1000);
};
