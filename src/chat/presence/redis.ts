/**
 * Presence shared by every instance through Redis. Each instance records how many connections
 * each member has on it (`conns:<member>` hash, field = instance id) and keeps a heartbeat with
 * expiry; a member enters the room when it first appears and is due to leave when its last
 * connection anywhere is gone (a deadline in the `leaving` sorted set). Every instance runs the
 * reaper: it moves the connections of instances whose heartbeat expired to the leaving set and
 * takes the leaves that are due; taking one is atomic, so each leave is logged exactly once.
 *
 * Keys (all under the prefix): presence:<room>:members (member id -> name),
 * presence:<room>:conns:<member> (instance id -> count), presence:leaving (room\nmember -> due ms),
 * presence:instances (instance id -> heartbeat expiry ms), presence:instance:<id> (room\nmember).
 * The scripts name keys they compute, so this needs a single Redis, not Redis Cluster.
 *
 * Deadlines and heartbeat expiries are on Redis's clock, shared by every instance (a test that
 * injects its own clock passes its time to the scripts instead: see redis-time.ts).
 */
import type { Redis } from 'ioredis';
import { nameKey, suffixedName } from '../../shared/rules.js';
import { type Clock, systemClock, type Timer } from '../clock.js';
import type { Member } from '../protocol.js';
import { LUA_TIME, scriptTime } from '../redis-time.js';
import { countMembers, NAME_CHOICES, type PresenceOptions, type PresenceTracker } from './presence.js';

/**
 * KEYS: members, conns, instanceSet, leaving, names (name key → member), keys (member → name key).
 * ARGV: member, instance, count, token, resync, then choices of a name as pairs (name, key).
 * Returns {entered, name}; a new member gets the first choice no other member holds, and
 * {-1} when every choice is held (the caller sends the next ones). A resync takes its one choice.
 */
const CONNECT = `
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[4])
local name = redis.call('HGET', KEYS[1], ARGV[1])
if name then return {0, name} end
for i = 6, #ARGV, 2 do
  local holder = redis.call('HGET', KEYS[5], ARGV[i + 1])
  if not holder or holder == ARGV[1] or ARGV[5] == '1' then
    redis.call('HSET', KEYS[5], ARGV[i + 1], ARGV[1])
    redis.call('HSET', KEYS[6], ARGV[1], ARGV[i + 1])
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[i])
    if ARGV[5] == '1' then return {0, ARGV[i]} end
    return {1, ARGV[i]}
  end
end
redis.call('HDEL', KEYS[2], ARGV[2])
return {-1, ''}`;

/** KEYS: conns, instanceSet, leaving. ARGV: instance, count, token, graceMs, time. */
const DISCONNECT = `${LUA_TIME}
if tonumber(ARGV[2]) > 0 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[3])
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
redis.call('ZADD', KEYS[3], time(ARGV[5]) + tonumber(ARGV[4]), ARGV[3])
return 1`;

/** KEYS: instances. ARGV: instance, ttlMs, time. Returns 1 when the instance was not listed (new, or taken for dead). */
const HEARTBEAT = `${LUA_TIME}
return redis.call('ZADD', KEYS[1], time(ARGV[3]) + tonumber(ARGV[2]), ARGV[1])`;

/** Move the connections of the instances in `ids` to the leaving set. */
const DROP_INSTANCES = `
local function drop(prefix, id, now, grace)
  local setKey = prefix .. 'instance:' .. id
  for _, token in ipairs(redis.call('SMEMBERS', setKey)) do
    local nl = string.find(token, '\\n', 1, true)
    local conns = prefix .. string.sub(token, 1, nl - 1) .. ':conns:' .. string.sub(token, nl + 1)
    redis.call('HDEL', conns, id)
    if redis.call('HLEN', conns) == 0 then redis.call('ZADD', prefix .. 'leaving', 'NX', now + grace, token) end
  end
  redis.call('DEL', setKey)
  redis.call('ZREM', prefix .. 'instances', id)
end`;

/** ARGV: prefix, graceMs, limit, time, [instance to drop now]. Returns room, member, name triples. */
const REAP = `${DROP_INSTANCES}${LUA_TIME}
local prefix, grace, now = ARGV[1], tonumber(ARGV[2]), time(ARGV[4])
if ARGV[5] then drop(prefix, ARGV[5], now, grace) end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'instances', '-inf', now)) do drop(prefix, id, now, grace) end
local out = {}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'leaving', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', prefix .. 'leaving', token)
  local nl = string.find(token, '\\n', 1, true)
  local room, member = string.sub(token, 1, nl - 1), string.sub(token, nl + 1)
  if redis.call('HLEN', prefix .. room .. ':conns:' .. member) == 0 then
    local name = redis.call('HGET', prefix .. room .. ':members', member)
    if name then
      redis.call('HDEL', prefix .. room .. ':members', member)
      local key = redis.call('HGET', prefix .. room .. ':keys', member)
      if key then
        redis.call('HDEL', prefix .. room .. ':keys', member)
        if redis.call('HGET', prefix .. room .. ':names', key) == member then redis.call('HDEL', prefix .. room .. ':names', key) end
      end
      table.insert(out, room) table.insert(out, member) table.insert(out, name)
    end
  end
end
return out`;

/** KEYS: members. ARGV: member, name. */
/** KEYS: members, names, keys. ARGV: member, name, key. Returns 1 when the member now has the name. */
const RENAME = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local holder = redis.call('HGET', KEYS[2], ARGV[3])
if holder and holder ~= ARGV[1] then return 0 end
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old and redis.call('HGET', KEYS[2], old) == ARGV[1] then redis.call('HDEL', KEYS[2], old) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** Choices of a name sent to the connect script at a time. */
const CHOICES_PER_CALL = 20;

type Script = (...args: Array<string | number>) => Promise<unknown>;

/**
 * Runs `task` one at a time. A call while it runs gets one more run after it, shared by every such
 * call: timers never pile runs up behind a slow Redis, and whoever awaits a call knows that a run
 * which started after the call has finished. `task` must not reject.
 */
function oneAtATime(task: () => Promise<void>): { run(): Promise<void>; idle(): Promise<void> } {
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const start = (): Promise<void> => {
    running = task().finally(() => {
      running = null;
    });
    return running;
  };
  const next = (): Promise<void> => {
    queued = null;
    return start();
  };
  return {
    run() {
      if (queued) return queued;
      if (!running) return start();
      queued = running.then(next, next);
      return queued;
    },
    async idle() {
      for (let busy = queued ?? running; busy; busy = queued ?? running) await busy;
    },
  };
}

/** The sorted set of live instances (id → heartbeat expiry ms) under a deployment's prefix. */
export const instancesKey = (prefix = 'roomchat:') => `${prefix}presence:instances`;

export interface RedisPresenceOptions extends PresenceOptions {
  /** A command connection (not the subscriber); fails fast while Redis is down. */
  redis: Redis;
  instanceId: string;
  /** @default 'roomchat:' */
  prefix?: string;
  /** How long an instance's heartbeat is valid; a dead instance's members leave after it plus the grace. */
  presenceTtlMs: number;
  /**
   * Redis failed: the operation went on with this instance's view (connect, disconnect, members,
   * online, renamed), or it is retried on the next tick (reap, heartbeat, republish). Every
   * failure comes here, for a log line and a metric.
   */
  onError(err: unknown, context: PresenceErrorContext): void;
}

/** What failed: the operation, and its room when it has one. */
export interface PresenceErrorContext {
  operation: 'connect' | 'disconnect' | 'members' | 'has' | 'online' | 'rename' | 'reap' | 'heartbeat' | 'republish';
  room?: string;
}

interface LocalMember {
  member: Member;
  connections: number;
}

export class RedisPresence implements PresenceTracker {
  readonly #redis: Redis;
  readonly #opts: RedisPresenceOptions;
  readonly #clock: Clock;
  readonly #prefix: string;
  /** This instance's own connections per room and member: the truth it publishes to Redis. */
  readonly #local = new Map<string, Map<string, LocalMember>>();
  readonly #timers: Timer[];
  readonly #script: Record<'connect' | 'disconnect' | 'heartbeat' | 'reap' | 'rename', Script>;
  readonly #heartbeats = oneAtATime(() => this.#heartbeat());
  readonly #reaps = oneAtATime(() => (this.#closed ? Promise.resolve() : this.#reap()));
  readonly #onReady = () => void this.heartbeat();
  /** Redis missed updates (it was down): publish the local state again when it is back. */
  #stale = false;
  #closed = false;

  constructor(options: RedisPresenceOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#redis = options.redis;
    this.#prefix = `${options.prefix ?? 'roomchat:'}presence:`;
    const define = (name: string, lua: string, keys: number): Script => {
      const command = `roomchat_${name}`;
      this.#redis.defineCommand(command, { numberOfKeys: keys, lua });
      const redis = this.#redis as unknown as Record<string, Script>;
      return (...args) => (redis[command] as Script).apply(redis, args);
    };
    this.#script = {
      connect: define('connect', CONNECT, 6),
      disconnect: define('disconnect', DISCONNECT, 3),
      heartbeat: define('heartbeat', HEARTBEAT, 1),
      reap: define('reap', REAP, 0),
      rename: define('rename', RENAME, 3),
    };
    const beat = Math.max(50, Math.floor(options.presenceTtlMs / 3));
    const reap = Math.min(1000, Math.max(25, Math.floor(options.leaveGraceMs / 5)));
    this.#timers = [
      this.#clock.every(beat, () => void this.heartbeat()),
      this.#clock.every(reap, () => void this.reap()),
    ];
    void this.heartbeat();
    this.#redis.on('ready', this.#onReady);
  }

  get roomCount(): number {
    return this.#local.size;
  }

  get memberCount(): number {
    return countMembers(this.#local);
  }

  async connect(room: string, member: Member): Promise<{ member: Member; entered: boolean }> {
    let members = this.#local.get(room);
    if (!members) {
      members = new Map();
      this.#local.set(room, members);
    }
    let local = members.get(member.id);
    const firstHere = !local;
    if (!local) {
      local = { member: { ...member }, connections: 0 };
      members.set(member.id, local);
    }
    local.connections++;
    try {
      for (let first = 1; first <= NAME_CHOICES; first += CHOICES_PER_CALL) {
        const choices = Array.from({ length: CHOICES_PER_CALL }, (_, i) => suffixedName(member.name, first + i));
        const [entered, name] = (await this.#script.connect(...this.#connectArgs(room, local, false, choices))) as [
          number,
          string,
        ];
        if (entered === -1) continue;
        local.member.name = name; // an existing member keeps the name it has
        return { member: local.member, entered: entered === 1 };
      }
      // a thousand members share the name: one more does no harm
      await this.#script.connect(...this.#connectArgs(room, local, true, [member.name]));
      return { member: local.member, entered: true };
    } catch (err) {
      // Redis is down: decide from what this instance knows, and tell Redis when it is back
      this.#stale = true;
      this.#opts.onError(err, { operation: 'connect', room });
      return { member: local.member, entered: firstHere };
    }
  }

  async disconnect(room: string, memberId: string): Promise<void> {
    const local = this.#local.get(room)?.get(memberId);
    if (!local) return;
    local.connections = Math.max(0, local.connections - 1);
    if (local.connections === 0) {
      const members = this.#local.get(room);
      members?.delete(memberId);
      if (members?.size === 0) this.#local.delete(room);
    }
    try {
      await this.#script.disconnect(
        this.#key(room, `:conns:${memberId}`),
        this.#instanceKey(),
        `${this.#prefix}leaving`,
        this.#opts.instanceId,
        local.connections,
        `${room}\n${memberId}`,
        this.#opts.leaveGraceMs,
        scriptTime(this.#clock),
      );
    } catch (err) {
      this.#stale = true;
      this.#opts.onError(err, { operation: 'disconnect', room });
    }
  }

  async members(room: string): Promise<Member[]> {
    try {
      const all = await this.#redis.hgetall(this.#key(room, ':members'));
      return Object.entries(all).map(([id, name]) => ({ id, name }));
    } catch (err) {
      // only the members connected here: those elsewhere or in their grace period are unknown
      this.#opts.onError(err, { operation: 'members', room });
      return [...(this.#local.get(room)?.values() ?? [])].map((l) => l.member);
    }
  }

  async has(room: string, memberId: string): Promise<boolean> {
    if (this.#local.get(room)?.has(memberId)) return true;
    try {
      return (await this.#redis.hexists(this.#key(room, ':members'), memberId)) === 1;
    } catch (err) {
      // not connected here, and whether it is elsewhere is unknown: take it as not in the room
      this.#opts.onError(err, { operation: 'has', room });
      return false;
    }
  }

  async online(room: string, memberId: string): Promise<Member | undefined> {
    const local = this.#local.get(room)?.get(memberId);
    if (local) return local.member;
    try {
      const [[, name], [, connections]] = (await this.#redis
        .multi()
        .hget(this.#key(room, ':members'), memberId)
        .hlen(this.#key(room, `:conns:${memberId}`))
        .exec()) as [[unknown, string | null], [unknown, number]];
      return name !== null && connections > 0 ? { id: memberId, name } : undefined;
    } catch (err) {
      // not connected here, and where else is unknown: take it as offline
      this.#opts.onError(err, { operation: 'online', room });
      return undefined;
    }
  }

  async rename(room: string, member: Member): Promise<boolean> {
    let claimed: boolean;
    try {
      const keys = [this.#key(room, ':members'), this.#key(room, ':names'), this.#key(room, ':keys')];
      claimed = (await this.#script.rename(...keys, member.id, member.name, nameKey(member.name))) === 1;
    } catch (err) {
      // only the members connected here can be checked; Redis hears of the name when it is back
      this.#stale = true;
      this.#opts.onError(err, { operation: 'rename', room });
      const key = nameKey(member.name);
      claimed = ![...(this.#local.get(room)?.values() ?? [])].some(
        (l) => l.member.id !== member.id && nameKey(l.member.name) === key,
      );
    }
    if (claimed) this.renamed(room, member);
    return claimed;
  }

  /** The instance that renamed the member told Redis already: only this instance's tabs change. */
  renamed(room: string, member: Member): void {
    const local = this.#local.get(room)?.get(member.id);
    if (local) local.member.name = member.name;
  }

  /** Presence lives in Redis, which outlives instance restarts: nothing to restore from the log. */
  restore(): void {}

  /**
   * Log the leaves that are due (and those of instances whose heartbeat expired). Runs on a timer;
   * exposed for tests that move the clock. A closed instance takes no more leaves.
   */
  reap(): Promise<void> {
    return this.#reaps.run();
  }

  /** Renew this instance's heartbeat. Runs on a timer; exposed for tests that move the clock. */
  heartbeat(): Promise<void> {
    return this.#heartbeats.run();
  }

  /** Stop; the members whose connections were here leave after the grace unless they come back. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.cancel();
    this.#redis.off('ready', this.#onReady);
    // a heartbeat landing after the hand-over would list this instance again
    await Promise.all([this.#heartbeats.idle(), this.#reaps.idle()]);
    this.#local.clear();
    await this.#reap(this.#opts.instanceId);
  }

  /** `dropInstance` hands that instance's connections over at once (a clean shutdown). */
  async #reap(dropInstance?: string): Promise<void> {
    try {
      const args: Array<string | number> = [this.#prefix, this.#opts.leaveGraceMs, 100, scriptTime(this.#clock)];
      if (dropInstance) args.push(dropInstance);
      const out = (await this.#script.reap(...args)) as string[];
      for (let i = 0; i + 2 < out.length; i += 3) {
        this.#opts.onLeave(out[i] as string, { id: out[i + 1] as string, name: out[i + 2] as string });
      }
    } catch (err) {
      this.#opts.onError(err, { operation: 'reap' });
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#closed) return;
    let added: unknown;
    try {
      added = await this.#script.heartbeat(
        instancesKey(this.#opts.prefix),
        this.#opts.instanceId,
        this.#opts.presenceTtlMs,
        scriptTime(this.#clock),
      );
    } catch (err) {
      this.#opts.onError(err, { operation: 'heartbeat' });
      return;
    }
    // not listed: Redis lost its data, or a stalled event loop let the heartbeat expire and the
    // reaper dropped this instance's connections; either way they must be stated again
    if (this.#stale || added === 1) await this.#republish();
  }

  /** After an outage (or a Redis that lost its data): state every local connection again. */
  async #republish(): Promise<void> {
    this.#stale = false;
    for (const [room, members] of this.#local) {
      try {
        for (const local of members.values()) {
          await this.#script.connect(...this.#connectArgs(room, local, true, [local.member.name]));
        }
      } catch (err) {
        this.#stale = true; // the next heartbeat tries again
        this.#opts.onError(err, { operation: 'republish', room });
        return;
      }
    }
  }

  #connectArgs(room: string, local: LocalMember, resync: boolean, choices: string[]): Array<string | number> {
    return [
      this.#key(room, ':members'),
      this.#key(room, `:conns:${local.member.id}`),
      this.#instanceKey(),
      `${this.#prefix}leaving`,
      this.#key(room, ':names'),
      this.#key(room, ':keys'),
      local.member.id,
      this.#opts.instanceId,
      local.connections,
      `${room}\n${local.member.id}`,
      resync ? '1' : '0',
      ...choices.flatMap((name) => [name, nameKey(name)]),
    ];
  }

  #key(room: string, suffix: string): string {
    return `${this.#prefix}${room}${suffix}`;
  }

  #instanceKey(): string {
    return `${this.#prefix}instance:${this.#opts.instanceId}`;
  }
}
