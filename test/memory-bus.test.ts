import { MemoryBus, MemoryHub } from '../src/chat/bus/memory.js';
import { messageBusContract } from './message-bus.contract.js';

messageBusContract('MemoryBus', {
  async pair(t) {
    const hub = new MemoryHub();
    const buses = [new MemoryBus(hub), new MemoryBus(hub), new MemoryBus(hub)] as const;
    t.after(() => Promise.all(buses.map((b) => b.close())));
    return [...buses];
  },
});
