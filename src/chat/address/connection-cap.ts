/**
 * ConnectionCap: open WebSockets per client address, at most `max` (PROTOCOL.md, "Abuse limits").
 * Both implementations (memory.ts, redis.ts) pass test/connection-cap.contract.ts.
 */

type Awaitable<T> = T | Promise<T>;

export interface ConnectionCap {
  /** Count one more open connection from `address`; false, counting nothing, when it has `max` already. */
  acquire(address: string): Awaitable<boolean>;
  /** A connection counted by `acquire` closed. */
  release(address: string): void;
  /** Addresses with a connection counted on this instance (metrics; 0 once every one closed). */
  readonly addresses: number;
}

/** Counts per address on this instance; an address is forgotten when its count is back to 0. */
export class LocalCounts {
  readonly #counts = new Map<string, number>();

  get(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  add(address: string): void {
    this.#counts.set(address, this.get(address) + 1);
  }

  /** Take one off; false when there was none to take. */
  remove(address: string): boolean {
    const n = this.get(address);
    if (n === 0) return false;
    if (n === 1) this.#counts.delete(address);
    else this.#counts.set(address, n - 1);
    return true;
  }

  get size(): number {
    return this.#counts.size;
  }
}
