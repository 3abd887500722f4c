/**
 * One handler per client frame type. A new frame type is its schema in protocol.ts, a file here,
 * and one line below; the compiler insists on the line once the schema is in `ClientFrame`.
 */
import type { ClientFrame } from '../protocol.js';
import type { Handler } from './context.js';
import { direct } from './direct.js';
import { message } from './message.js';
import { rename } from './rename.js';
import { typing } from './typing.js';

export const handlers: { [T in ClientFrame['type']]: Handler<Extract<ClientFrame, { type: T }>> } = {
  message,
  typing,
  rename,
  direct,
};
