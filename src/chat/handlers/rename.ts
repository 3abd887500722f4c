/** `rename`: a new display name for the member, logged; every tab sends under it from then on. */
import { timestamp } from '../clock.js';
import { canonicalDisplayName } from '../names.js';
import type { RenameFrame } from '../protocol.js';
import { admit, type Handler, store } from './context.js';

export const rename: Handler<RenameFrame> = async (peer, frame, ctx) => {
  const name = canonicalDisplayName(frame.name);
  if (!name.ok) return peer.refuse({ code: 'invalid_name', message: name.reason });
  const { member } = peer;
  if (name.value === member.name) return; // nothing changes, nothing to log
  if (!(await admit(peer, ctx))) return;
  const renamed = { id: member.id, name: name.value };
  const stored = await store(peer, ctx, {
    draft: { type: 'rename', room: peer.room, member: renamed, previous: member.name, ts: timestamp(ctx.clock) },
    memberId: member.id,
  });
  if (!stored) return;
  await ctx.presence.renamed(peer.room, renamed);
  // other instances take the new name before they deliver the event, as this one does
  ctx.hub.renamed(peer.room, renamed);
  ctx.hub.publish(peer.room, stored.event);
};
