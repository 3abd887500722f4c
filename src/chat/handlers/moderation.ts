/**
 * The owner's and moderators' frames (PROTOCOL.md v2, "Owner, moderators, topic, kicks"): `topic`,
 * `role` (the owner only) and `kick`. Each is logged with its effect on the room (topic, roles,
 * ban) in the same transaction; a kick's event closes the kicked member's connections with 4003
 * wherever they are, when it is delivered to them (room-registry.ts).
 */
import { timestamp } from '../clock.js';
import { codePoints } from '../names.js';
import type { KickFrame, Member, RoleFrame, TopicFrame } from '../protocol.js';
import { TOPIC_MAX } from '../protocol.js';
import { admit, type ChatContext, type Handler, type Peer, store } from './context.js';

const forbidden = (message: string) => ({ code: 'forbidden' as const, message });

/** A member of the room by id, with the name the room knows: present, or last seen by the log. */
async function memberOf(ctx: ChatContext, room: string, id: string): Promise<Member | null> {
  const present = (await ctx.presence.members(room)).find((m) => m.id === id);
  if (present) return { ...present };
  const logged = (await ctx.history.loggedMembers(room)).find((m) => m.id === id);
  return logged ? { ...logged } : null;
}

async function roleOf(ctx: ChatContext, peer: Peer, id = peer.memberId) {
  const { roles } = await ctx.history.roomInfo(peer.room);
  return roles[id] ?? 'member';
}

export const topic: Handler<TopicFrame> = async (peer, frame, ctx) => {
  const text = frame.text.trim();
  if (codePoints(text) > TOPIC_MAX) {
    return peer.refuse({ code: 'bad_request', message: `a topic has at most ${TOPIC_MAX} characters` });
  }
  if (/[\p{Cs}\p{Cc}]/u.test(text)) {
    return peer.refuse({ code: 'bad_request', message: 'a topic is plain text: no control characters' });
  }
  if (!(await admit(peer, ctx))) return;
  if ((await roleOf(ctx, peer)) === 'member')
    return peer.refuse(forbidden('only the owner or a moderator sets the topic'));
  const stored = await store(peer, ctx, {
    draft: { type: 'topic', room: peer.room, text, by: { ...peer.member }, ts: timestamp(ctx.clock) },
    memberId: peer.memberId,
    effect: { kind: 'topic', text },
  });
  if (stored) ctx.hub.publish(peer.room, stored.event);
};

export const role: Handler<RoleFrame> = async (peer, frame, ctx) => {
  if (!(await admit(peer, ctx))) return;
  const { roles } = await ctx.history.roomInfo(peer.room);
  if (roles[peer.memberId] !== 'owner') return peer.refuse(forbidden('only the owner changes roles'));
  if (roles[frame.member] === 'owner') return peer.refuse(forbidden("nobody changes the owner's role"));
  const member = await memberOf(ctx, peer.room, frame.member);
  if (!member) return peer.refuse({ code: 'not_found', message: 'no such member in this room' });
  const stored = await store(peer, ctx, {
    draft: {
      type: 'role',
      room: peer.room,
      member,
      role: frame.role,
      by: { ...peer.member },
      ts: timestamp(ctx.clock),
    },
    memberId: peer.memberId,
    effect: { kind: 'role', member: member.id, role: frame.role },
  });
  if (stored) ctx.hub.publish(peer.room, stored.event);
};

export const kick: Handler<KickFrame> = async (peer, frame, ctx) => {
  if (!(await admit(peer, ctx))) return;
  const { roles } = await ctx.history.roomInfo(peer.room);
  const mine = roles[peer.memberId];
  if (mine === undefined) return peer.refuse(forbidden('only the owner or a moderator kicks'));
  if (mine === 'moderator' && roles[frame.member] !== undefined) {
    return peer.refuse(forbidden('a moderator cannot kick the owner or another moderator'));
  }
  const member = await memberOf(ctx, peer.room, frame.member);
  if (!member) return peer.refuse({ code: 'not_found', message: 'no such member in this room' });
  const now = ctx.clock.now();
  const until = now + frame.minutes * 60_000;
  const stored = await store(peer, ctx, {
    draft: {
      type: 'kick',
      room: peer.room,
      member,
      by: { ...peer.member },
      until: new Date(until).toISOString(),
      ts: new Date(now).toISOString(),
    },
    memberId: peer.memberId,
    effect: { kind: 'ban', member: member.id, until },
  });
  if (stored) ctx.hub.publish(peer.room, stored.event);
};
