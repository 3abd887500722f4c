/**
 * The time a Redis script runs at. In production every instance uses Redis's own clock (TIME), so
 * deadlines, heartbeat expiries and bucket refills stored by one instance are compared with the
 * same clock by every other, whatever the skew between their machines. A test that injects its
 * own clock passes that clock's time instead, and so moves the scripts' time as well.
 */
import { type Clock, systemClock } from './clock.js';

/** Lua: `time(ARGV[n])` is the caller's time in ms, or Redis's own when the caller sent ''. */
export const LUA_TIME = `
local function time(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/** What a script gets as its time argument: '' (Redis's clock) under the system clock. */
export function scriptTime(clock: Clock): number | '' {
  return clock === systemClock ? '' : clock.now();
}
