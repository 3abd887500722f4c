/** The embedded ConnectionCap: this process's connections per address. */
import { type ConnectionCap, LocalCounts } from './connection-cap.js';

export class MemoryConnectionCap implements ConnectionCap {
  readonly #max: number;
  readonly #counts = new LocalCounts();

  constructor({ max }: { max: number }) {
    this.#max = max;
  }

  acquire(address: string): boolean {
    if (this.#counts.get(address) >= this.#max) return false;
    this.#counts.add(address);
    return true;
  }

  release(address: string): void {
    this.#counts.remove(address);
  }

  get addresses(): number {
    return this.#counts.size;
  }
}
