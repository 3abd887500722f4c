// The baseline: a multi-room chat server written the way the tutorials do it. Fastify +
// @fastify/websocket, a Map<room, Set<socket>>, JSON.stringify per recipient, no store, no seq,
// no presence, no limits. It speaks enough of the protocol for the load generator (welcome,
// message with clientMsgId) and nothing more. Started by the benchmark on PORT.
import websocket from '@fastify/websocket';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(websocket);
const rooms = new Map();

app.get('/healthz', async () => ({ status: 'ok' }));

app.get('/ws', { websocket: true }, (socket, req) => {
  const room = String(req.query.room);
  const member = { id: String(req.query.uid), name: String(req.query.name ?? 'guest') };
  if (!rooms.has(room)) rooms.set(room, new Set());
  rooms.get(room).add(socket);
  socket.send(
    JSON.stringify({ type: 'welcome', room, you: member, members: [], history: [], seq: 0, truncated: false }),
  );
  socket.on('message', (data) => {
    let frame;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (frame.type !== 'message') return;
    for (const peer of rooms.get(room)) {
      if (peer.readyState !== 1) continue;
      peer.send(
        JSON.stringify({
          type: 'message',
          room,
          from: member,
          text: frame.text,
          ts: new Date().toISOString(),
          clientMsgId: frame.clientMsgId,
        }),
      );
    }
  });
  socket.on('close', () => {
    rooms.get(room).delete(socket);
    if (rooms.get(room).size === 0) rooms.delete(room);
  });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
