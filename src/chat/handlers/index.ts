/**
 * One handler per client frame type. A new frame type is its schema in protocol.ts, a file here,
 * and one line below; the compiler insists on the line once the schema is in `ClientFrame`.
 */
import type { ClientFrame } from '../protocol.js';
import type { Handler } from './context.js';
import { deleteMessage } from './delete.js';
import { direct } from './direct.js';
import { edit } from './edit.js';
import { message } from './message.js';
import { kick, role, topic } from './moderation.js';
import { react } from './react.js';
import { rename } from './rename.js';
import { typing } from './typing.js';

export const handlers: { [T in ClientFrame['type']]: Handler<Extract<ClientFrame, { type: T }>> } = {
  message,
  typing,
  rename,
  direct,
  edit,
  delete: deleteMessage,
  react,
  topic,
  role,
  kick,
};
