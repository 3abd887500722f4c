/**
 * FileStore: the bytes of uploaded files and their thumbnails, with who uploaded them where and
 * which message holds them (PROTOCOL.md v2, "Files"). A folder for one instance (disk.ts),
 * PostgreSQL for many (postgres.ts); both pass test/file-store.contract.ts.
 */

import type { ChatFile } from '../chat/protocol.js';

export type { ChatFile };

/** A stored file's record. */
export interface StoredFile {
  file: ChatFile;
  room: string;
  /** The uploader. */
  memberId: string;
  /** When it was uploaded (ms). */
  at: number;
  /** The message that holds it; null until attached. */
  messageId: string | null;
}

export interface FileStore {
  /**
   * Keep a file (and an image's thumbnail), not attached to any message yet: its bytes, or a file
   * on disk to take them from (the caller removes that file afterwards).
   */
  put(record: StoredFile, body: Buffer | { path: string }, thumb: Buffer | null): Promise<void>;
  /** A file's record, or null. */
  get(id: string): Promise<StoredFile | null>;
  /** The bytes of a file, or of its thumbnail; null when there are none. */
  read(id: string, thumb: boolean): Promise<Buffer | null>;
  /**
   * Attach files to a message, all or none: each must be of `room`, uploaded by `memberId` and not
   * attached yet. Their records, in the order asked, or null (nothing changed).
   */
  attach(ids: readonly string[], room: string, memberId: string, messageId: string): Promise<ChatFile[] | null>;
  /** Undo an attach whose message could not be stored. */
  detach(ids: readonly string[], messageId: string): Promise<void>;
  /** Erase files and their thumbnails (a deleted message's, or unattached ones past their hour). */
  erase(ids: readonly string[]): Promise<void>;
  /** Ids of files uploaded before `before` (ms) and never attached, at most `limit`. */
  unattached(before: number, limit: number): Promise<string[]>;
  close(): Promise<void>;
}
