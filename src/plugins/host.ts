/**
 * Which Host a request may name (PROTOCOL.md, WebSocket handshake): with PUBLIC_URL set, only its
 * host; otherwise only `localhost` or an IP address literal. Any other name is answered 421, so a
 * DNS-rebinding page (attacker.example resolving to this server) can neither read pages nor pass
 * the WebSocket Origin check, which compares the Origin with the server's own origin.
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The server's own origins: PUBLIC_URL's, or those a valid Host header names. */
    isOwnOrigin(origin: string, host: string | undefined): boolean;
  }
}

/** The host name of a Host header, without port or IPv6 brackets. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The peer's address; a request injected in tests may have no socket. */
export function peerAddress(req: FastifyRequest): string | undefined {
  return (req.socket as FastifyRequest['socket'] | undefined)?.remoteAddress;
}

/** A peer address on this machine. */
export function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
  );
}

export function isLocalHost(host: string): boolean {
  const name = hostName(host).toLowerCase();
  return name === 'localhost' || isIP(name) !== 0;
}

export default fp<{ publicUrl?: string }>(
  async (app, { publicUrl }) => {
    const publicOrigin = publicUrl === undefined ? undefined : new URL(publicUrl);
    // localhost and IP literals are safe from rebinding (a page cannot choose them as its Host): with
    // PUBLIC_URL set they are still answered to the machine itself (health checks, metrics)
    const allowedHost = (host: string | undefined, peer: string | undefined): boolean => {
      // no Host at all is no browser (they always send one): nothing to rebind
      if (host === undefined) return true;
      if (!publicOrigin) return isLocalHost(host);
      return host.toLowerCase() === publicOrigin.host.toLowerCase() || (isLoopback(peer) && isLocalHost(host));
    };
    app.decorate('isOwnOrigin', (origin: string, host: string | undefined) => {
      if (publicOrigin) return origin === publicOrigin.origin;
      return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
    });
    app.addHook('onRequest', async (req, reply) => {
      if (allowedHost(req.headers.host, peerAddress(req))) return;
      const expected = publicOrigin ? publicOrigin.host : 'localhost or an IP address (or set PUBLIC_URL)';
      return reply.code(421).send({ error: 'misdirected_request', message: `this server answers to ${expected}` });
    });
  },
  { name: 'host' },
);
