/**
 * One clock for everything in the chat that waits or measures: rate-limit buckets, the presence
 * leave grace, the registry's gap wait, the heartbeat and event timestamps. Production uses the
 * system clock; tests pass a clock they advance themselves (test/clock.ts), so no test depends on
 * how busy the machine is.
 */

/** A scheduled callback that can be called off. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms`. Never keeps the process alive on its own. */
  after(ms: number, fn: () => void): Timer;
  /** Run `fn` every `ms` until cancelled. Never keeps the process alive on its own. */
  every(ms: number, fn: () => void): Timer;
}

/** The system clock: `Date.now` and unreferenced Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

/** An event timestamp (ISO 8601, UTC) at the clock's present time. */
export function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
