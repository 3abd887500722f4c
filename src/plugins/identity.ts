/**
 * A browser's uid lives in the `rc_uid` cookie (PROTOCOL.md, "uid"): the room page sets a fresh
 * one when the request brings none, `HttpOnly` so that no script on the page (an injected one
 * included) can read it, and the WebSocket handshake takes it when the query has no `uid=`. So a
 * browser never puts its uid in a URL or in storage; other clients keep sending `uid=`.
 * @see https://github.com/fastify/fastify-cookie
 */
import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isValidUid } from '../shared/rules.js';

export const UID_COOKIE = 'rc_uid';
const YEAR_SECONDS = 365 * 24 * 3600;

declare module 'fastify' {
  interface FastifyRequest {
    /** The uid of the request's valid `rc_uid` cookie. */
    cookieUid(): string | undefined;
  }
  interface FastifyReply {
    /** Give the browser a uid cookie unless its request brought a valid one. */
    ensureUidCookie(): FastifyReply;
  }
}

export default fp<{ publicUrl?: string }>(
  async (app, { publicUrl }) => {
    await app.register(cookie);
    const httpsAlways = publicUrl?.startsWith('https:') ?? false;
    app.decorateRequest('cookieUid', function cookieUid(this: FastifyRequest) {
      const uid = this.cookies[UID_COOKIE];
      return uid !== undefined && isValidUid(uid) ? uid : undefined;
    });
    app.decorateReply('ensureUidCookie', function ensureUidCookie(this: FastifyReply) {
      if (this.request.cookieUid() !== undefined) return this;
      return this.setCookie(UID_COOKIE, randomBytes(18).toString('base64url'), {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        // behind a proxy that terminates TLS, X-Forwarded-Proto says https (with TRUST_PROXY)
        secure: httpsAlways || this.request.protocol === 'https',
        maxAge: YEAR_SECONDS,
      });
    });
  },
  { name: 'identity' },
);
