/**
 * `rename`: a new display name for the member, logged; every tab sends under it from then on. A
 * name another present member has is refused with `name_taken` (names compare by `nameKey`).
 */
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
  const previous = member.name;
  const renamed = { id: member.id, name: name.value };
  if (!(await ctx.presence.rename(peer.room, renamed))) {
    return peer.refuse({ code: 'name_taken', message: `${name.value} is the name of someone in the room` });
  }
  const stored = await store(peer, ctx, {
    draft: { type: 'rename', room: peer.room, member: renamed, previous, ts: timestamp(ctx.clock) },
    memberId: member.id,
  });
  if (!stored) {
    // not logged: the member keeps the name the room saw last
    await ctx.presence.rename(peer.room, { id: member.id, name: previous });
    return;
  }
  // other instances take the new name before they deliver the event, as this one does
  ctx.hub.renamed(peer.room, renamed);
  ctx.hub.publish(peer.room, stored.event);
};
