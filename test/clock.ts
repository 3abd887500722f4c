/**
 * A clock the test moves by hand: timers fire only inside `advance`, in the order they fall due,
 * so what a test proves about grace periods, refills and waits never depends on the machine's load.
 */
import type { Clock, Timer } from '../src/chat/clock.js';

interface Scheduled {
  due: number;
  order: number;
  fn: () => void;
  every: number | null;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #timers: Scheduled[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    return this.#schedule(ms, fn, null);
  }

  every(ms: number, fn: () => void): Timer {
    return this.#schedule(ms, fn, Math.max(1, ms));
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#timers
        .filter((t) => !t.cancelled && t.due <= target)
        .sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (!next) break;
      this.#now = Math.max(this.#now, next.due);
      if (next.every === null) {
        next.cancelled = true;
      } else {
        next.due += next.every;
        next.order = ++this.#order;
      }
      next.fn();
    }
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    this.#now = target;
  }

  #schedule(ms: number, fn: () => void, every: number | null): Timer {
    const timer: Scheduled = { due: this.#now + Math.max(0, ms), order: ++this.#order, fn, every, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}
