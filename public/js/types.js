// The wire protocol's frames as the client sees them, for type-checking only: the server's own
// types (src/chat/protocol.ts), named here once for the client's modules.

/** @import * as protocol from '../../src/chat/protocol.js' */

/**
 * @typedef {protocol.Member} Member
 * @typedef {protocol.MessageEvent} MessageEvent
 * @typedef {protocol.JoinEvent} JoinEvent
 * @typedef {protocol.LeaveEvent} LeaveEvent
 * @typedef {protocol.RenameEvent} RenameEvent
 * @typedef {protocol.ChatEvent} ChatEvent
 * @typedef {protocol.TypingFrameOut} TypingFrameOut
 * @typedef {protocol.DirectFrameOut} DirectFrameOut
 * @typedef {protocol.ErrorFrameOut} ErrorFrameOut
 * @typedef {protocol.WelcomeFrame} WelcomeFrame
 * @typedef {protocol.ClientFrame} ClientFrame
 * @typedef {protocol.ChatFile} ChatFile
 * @typedef {protocol.Quote} Quote
 * @typedef {protocol.EditEvent} EditEvent
 * @typedef {protocol.DeleteEvent} DeleteEvent
 * @typedef {protocol.ReactEvent} ReactEvent
 * @typedef {WelcomeFrame | ChatEvent | TypingFrameOut | DirectFrameOut | ErrorFrameOut} ServerFrame
 */
/**
 * What the user asked to send and is not acknowledged yet.
 * @typedef {{ clientMsgId: string, text: string, to?: Member, at: number, files?: ChatFile[], replyTo?: string, mentions?: string[] }} OutboxEntry
 */

export {};
