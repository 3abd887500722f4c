/**
 * HTTP connections that never sent a request (browsers open spare ones ahead of need) would hold
 * up a shutdown until Node's header timeout, a minute or more: they are closed when the server
 * closes. Connections with a request in flight finish it; idle keep-alive ones Fastify closes.
 */
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    const open = new Set<Socket>();
    app.server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    app.addHook('preClose', async () => {
      for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    });
  },
  { name: 'connections' },
);
