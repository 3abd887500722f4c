/**
 * The embedded FileStore: a folder (FILES_DIR) written by this process only: `ID` (the bytes),
 * `ID.thumb` (an image's WebP thumbnail) and `ID.json` (the record). Ids are random, so names
 * never collide and nothing outside the folder is ever named.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatFile, FileStore, StoredFile } from './file-store.js';

const ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

export class DiskFileStore implements FileStore {
  readonly #dir: string;
  /** Attaches in progress: one at a time, so two messages never take the same file. */
  #attaching: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(dir: string): Promise<DiskFileStore> {
    await mkdir(dir, { recursive: true });
    return new DiskFileStore(dir);
  }

  #path(id: string, suffix = ''): string {
    if (!ID_RE.test(id)) throw new Error('not a file id');
    return join(this.#dir, id + suffix);
  }

  async put(record: StoredFile, body: Buffer | { path: string }, thumb: Buffer | null): Promise<void> {
    const { id } = record.file;
    if (Buffer.isBuffer(body)) await writeFile(this.#path(id), body);
    else await copyFile(body.path, this.#path(id)); // streamed by the kernel, never whole in memory
    if (thumb) await writeFile(this.#path(id, '.thumb'), thumb);
    await this.#writeRecord(record); // last: a file is there once its record is
  }

  async #writeRecord(record: StoredFile): Promise<void> {
    const path = this.#path(record.file.id, '.json');
    await writeFile(`${path}.tmp`, JSON.stringify(record));
    await rename(`${path}.tmp`, path);
  }

  async get(id: string): Promise<StoredFile | null> {
    if (!ID_RE.test(id)) return null;
    try {
      return JSON.parse(await readFile(this.#path(id, '.json'), 'utf8')) as StoredFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(id: string, thumb: boolean): Promise<Buffer | null> {
    if (!ID_RE.test(id)) return null;
    try {
      return await readFile(this.#path(id, thumb ? '.thumb' : ''));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  attach(ids: readonly string[], room: string, memberId: string, messageId: string): Promise<ChatFile[] | null> {
    const run = this.#attaching.then(async () => {
      const records = await Promise.all(ids.map((id) => this.get(id)));
      const ok = records.every((r) => r && r.room === room && r.memberId === memberId && r.messageId === null);
      if (!ok || new Set(ids).size !== ids.length) return null;
      for (const r of records as StoredFile[]) await this.#writeRecord({ ...r, messageId });
      return (records as StoredFile[]).map((r) => r.file);
    });
    this.#attaching = run.catch(() => undefined);
    return run;
  }

  async detach(ids: readonly string[], messageId: string): Promise<void> {
    for (const id of ids) {
      const record = await this.get(id);
      if (record?.messageId === messageId) await this.#writeRecord({ ...record, messageId: null });
    }
  }

  async erase(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (!ID_RE.test(id)) continue;
      // the record first: from then on the file is gone for every reader
      await rm(this.#path(id, '.json'), { force: true });
      await rm(this.#path(id), { force: true });
      await rm(this.#path(id, '.thumb'), { force: true });
    }
  }

  async unattached(before: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const record = await this.get(name.slice(0, -5));
      if (record && record.messageId === null && record.at < before) out.push(record.file.id);
      if (out.length >= limit) break;
    }
    return out;
  }

  async close(): Promise<void> {}
}
