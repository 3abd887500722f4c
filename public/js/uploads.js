// Files the user attaches to the next message: picked, pasted or dropped, uploaded at once with a
// progress bar each (cancel stops it), sent with the message as their ids (PROTOCOL.md v2, Files).
// The upload is authenticated by the rc_uid cookie the browser sends with it.

import { FILES_MAX } from './rules.js';

/**
 * @typedef {import('./types.js').ChatFile} ChatFile
 * @typedef {{ key: number, name: string, size: number, xhr: XMLHttpRequest, file: ChatFile | null, error: string | null, item: HTMLLIElement }} Upload
 */

export class Uploads {
  /** @type {Upload[]} */
  #list = [];
  #next = 0;
  /** @type {HTMLUListElement} */
  #tray;
  /** @type {string} */
  #room;
  /** @type {() => void} */
  #onChange;

  /** @param {HTMLUListElement} tray @param {string} room @param {() => void} onChange */
  constructor(tray, room, onChange) {
    this.#tray = tray;
    this.#room = room;
    this.#onChange = onChange;
  }

  /** Files uploaded and ready to go with the next message. */
  get ready() {
    return this.#list.filter((u) => u.file !== null).map((u) => /** @type {ChatFile} */ (u.file));
  }

  /** Some are still on their way. */
  get busy() {
    return this.#list.some((u) => u.file === null && u.error === null);
  }

  /** @param {Iterable<File>} files */
  add(files) {
    for (const f of files) {
      if (this.#list.length >= FILES_MAX) break;
      this.#upload(f);
    }
    this.#onChange();
  }

  /** The message holding them went: start afresh. */
  clear() {
    for (const u of this.#list) if (u.file === null) u.xhr.abort();
    this.#list = [];
    this.#tray.replaceChildren();
    this.#tray.hidden = true;
    this.#onChange();
  }

  /** @param {File} f */
  #upload(f) {
    const xhr = new XMLHttpRequest();
    const item = document.createElement('li');
    item.className = 'upload';
    const name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = f.name || 'pasted image';
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute('aria-label', `Uploading ${name.textContent}`);
    const status = document.createElement('span');
    status.className = 'upload-status';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'chip-close';
    remove.setAttribute('aria-label', `Remove ${name.textContent}`);
    remove.textContent = '×';
    item.append(name, progress, status, remove);
    /** @type {Upload} */
    const upload = { key: this.#next++, name: name.textContent, size: f.size, xhr, file: null, error: null, item };
    this.#list.push(upload);
    this.#tray.append(item);
    this.#tray.hidden = false;
    remove.addEventListener('click', () => {
      xhr.abort();
      this.#list = this.#list.filter((u) => u !== upload);
      item.remove();
      this.#tray.hidden = this.#list.length === 0;
      this.#onChange();
    });
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = e.loaded / e.total;
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 201) {
        upload.file = JSON.parse(xhr.responseText).file;
        progress.value = 1;
        item.classList.add('done');
        status.textContent = formatSize(upload.size);
      } else {
        let message = `HTTP ${xhr.status}`;
        try {
          message = JSON.parse(xhr.responseText).message ?? message;
        } catch {
          /* not JSON: the status says it */
        }
        upload.error = message;
        item.classList.add('failed');
        status.textContent = xhr.status === 413 ? 'too large' : message;
      }
      this.#onChange();
    });
    xhr.addEventListener('error', () => {
      upload.error = 'network error';
      item.classList.add('failed');
      status.textContent = 'upload failed';
      this.#onChange();
    });
    const form = new FormData();
    form.append('file', f, f.name || 'pasted-image');
    xhr.open('POST', `/api/rooms/${encodeURIComponent(this.#room)}/files`);
    xhr.send(form);
  }
}

/** @param {number} bytes */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
