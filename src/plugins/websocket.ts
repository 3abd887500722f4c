/**
 * WebSocket support: frames above MAX_FRAME_BYTES close with 1009, no compression.
 * @see https://github.com/fastify/fastify-websocket
 */
import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(websocket, {
      // no client tracking: the room registry knows every socket; ws's Set would add an entry and
      // a close listener per connection
      options: { maxPayload: config.maxFrameBytes, perMessageDeflate: false, clientTracking: false },
      // The chat plugin closes the sockets (1001, after in-flight writes are stored) and then this
      // server: ws's close() waits for every client, so it cannot run first.
      preClose(done) {
        done();
      },
    });
  },
  { name: 'websocket' },
);
