// Shapes of the wire protocol (PROTOCOL.md v1) as the client sees them, for type-checking only.

/** @typedef {{ id: string, name: string }} Member */
/**
 * @typedef {{ type: 'message', room: string, seq: number, id: string, from: Member, text: string, ts: string, clientMsgId?: string }} MessageEvent
 * @typedef {{ type: 'join' | 'leave', room: string, seq: number, member: Member, ts: string }} PresenceEvent
 * @typedef {{ type: 'rename', room: string, seq: number, member: Member, previous: string, ts: string }} RenameEvent
 * @typedef {MessageEvent | PresenceEvent | RenameEvent} ChatEvent
 */
/**
 * @typedef {{ type: 'welcome', room: string, you: Member, members: Member[], history: ChatEvent[], seq: number, truncated: boolean }} WelcomeFrame
 * @typedef {{ type: 'typing', room: string, member: Member }} TypingFrame
 * @typedef {{ type: 'direct', id: string, from: Member, to: Member, text: string, ts: string, clientMsgId?: string }} DirectFrame
 * @typedef {{ type: 'error', code: string, message: string, clientMsgId?: string }} ErrorFrame
 * @typedef {WelcomeFrame | ChatEvent | TypingFrame | DirectFrame | ErrorFrame} ServerFrame
 */
/**
 * What the user asked to send and is not acknowledged yet.
 * @typedef {{ clientMsgId: string, text: string, to?: Member, at: number }} OutboxEntry
 */

export {};
