import { MemoryConnectionCap } from '../src/chat/address/memory.js';
import { connectionCapContract } from './connection-cap.contract.js';

connectionCapContract('MemoryConnectionCap', (max) => ({ cap: new MemoryConnectionCap({ max }), cleanup: () => {} }));
