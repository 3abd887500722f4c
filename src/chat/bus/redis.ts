/**
 * The cluster MessageBus: Redis pub/sub, one channel per room, subscribed while this instance has
 * sockets in the room. Publishing and subscribing use separate connections (a subscribed one can
 * do nothing else). Each envelope carries the publishing instance's id; an instance ignores its own.
 * After the subscriber reconnects, the listener is told to resync: messages published meanwhile
 * are lost to pub/sub but not to the store.
 * @see https://github.com/redis/ioredis
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Member } from '../protocol.js';
import type { BusListener, BusMessage, MessageBus } from './message-bus.js';

export interface RedisBusOptions {
  /** A connection for PUBLISH (and other commands). */
  publisher: Redis;
  /** A connection of its own for SUBSCRIBE. */
  subscriber: Redis;
  /** Prefix of every channel. @default 'roomchat:' */
  prefix?: string;
}

// envelope: kind \n instance \n (event: seq | ephemeral: to,to \n except | renamed: nothing) \n json
// (JSON text has no raw newline, member ids are base64url)
function encode(instanceId: string, message: BusMessage): string {
  if (message.kind === 'event') return `e\n${instanceId}\n${message.event.seq}\n${message.event.json}`;
  if (message.kind === 'renamed') return `n\n${instanceId}\n${JSON.stringify(message.member)}`;
  return `t\n${instanceId}\n${message.to?.join(',') ?? ''}\n${message.except ?? ''}\n${message.json}`;
}

const HEADER_PARTS: Record<string, number> = { e: 3, n: 2, t: 4 };

/** A member in an envelope; null when the payload is not one (no instance of ours wrote it). */
function parseMember(json: string): Member | null {
  try {
    const value = JSON.parse(json) as Partial<Member> | null;
    return typeof value?.id === 'string' && typeof value.name === 'string' ? { id: value.id, name: value.name } : null;
  } catch {
    return null;
  }
}

function decode(room: string, payload: string): { from: string; message: BusMessage } | null {
  const parts = payload.split('\n', HEADER_PARTS[payload.charAt(0)] ?? 2);
  const header = parts.reduce((n, p) => n + p.length + 1, 0);
  const json = payload.slice(header);
  const [kind, from] = parts;
  if (kind === 'e' && from) {
    return { from, message: { kind: 'event', room, event: { seq: Number(parts[2]), json } } };
  }
  if (kind === 'n' && from) {
    const member = parseMember(json);
    return member ? { from, message: { kind: 'renamed', room, member } } : null;
  }
  if (kind === 't' && from) {
    const to = parts[2] ? parts[2].split(',') : undefined;
    const except = parts[3] || undefined;
    return { from, message: { kind: 'ephemeral', room, json, ...(to ? { to } : {}), ...(except ? { except } : {}) } };
  }
  return null;
}

export class RedisBus implements MessageBus {
  readonly instanceId = randomUUID();
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #prefix: string;
  #listener: BusListener | null = null;
  #everReady = false;

  constructor({ publisher, subscriber, prefix = 'roomchat:' }: RedisBusOptions) {
    this.#pub = publisher;
    this.#sub = subscriber;
    this.#prefix = `${prefix}room:`;
    subscriber.on('message', (channel: string, payload: string) => {
      if (!channel.startsWith(this.#prefix)) return;
      const decoded = decode(channel.slice(this.#prefix.length), payload);
      if (decoded && decoded.from !== this.instanceId) this.#listener?.deliver(decoded.message);
    });
    // ioredis subscribes again by itself after a reconnect; what was published meanwhile is gone
    subscriber.on('ready', () => {
      if (this.#everReady) this.#listener?.resync();
      this.#everReady = true;
    });
    if (subscriber.status === 'ready') this.#everReady = true;
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#pub.publish(this.#prefix + message.room, encode(this.instanceId, message));
  }

  subscribe(listener: BusListener): void {
    this.#listener = listener;
  }

  async watch(room: string): Promise<void> {
    await this.#sub.subscribe(this.#prefix + room);
  }

  async unwatch(room: string): Promise<void> {
    await this.#sub.unsubscribe(this.#prefix + room);
  }

  async ping(): Promise<void> {
    if (this.#pub.status !== 'ready' || this.#sub.status !== 'ready') throw new Error('redis is not connected');
    await this.#pub.ping();
  }

  async close(): Promise<void> {
    this.#listener = null;
    this.#sub.removeAllListeners('message');
  }
}
