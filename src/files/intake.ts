/**
 * What an upload becomes (PROTOCOL.md v2, "Files"): its type from its bytes (file-type), never
 * from the name or the client; an image that decodes is re-encoded by sharp, which drops its
 * metadata (EXIF, GPS, XMP, text chunks), and gets a WebP thumbnail of at most 480 pixels a side;
 * an image over 50 megapixels is refused; anything else (SVG and HTML included) is kept as bytes.
 * @see https://sharp.pixelplumbing.com/api-constructor
 */
import { stat } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import sharp, { type Metadata } from 'sharp';

/** Largest image accepted, in pixels (decompression bombs stop here). */
export const MAX_IMAGE_PIXELS = 50_000_000;
export const THUMB_MAX = 480;
const NAME_MAX = 255;

// libvips would keep recent images decoded (50 MiB by default): each upload is seen once
sharp.cache(false);

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Images decoded at once: a decoded image is width × height × channels bytes, so ten large ones
 * in parallel would hold hundreds of MiB; the rest wait their turn (their bytes wait on disk).
 */
const IMAGE_SLOTS = 2;
let busySlots = 0;
const waiting: Array<() => void> = [];

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (busySlots >= IMAGE_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  busySlots++;
  try {
    return await work();
  } finally {
    busySlots--;
    waiting.shift()?.();
  }
}

/**
 * What is kept: an image's re-encoded bytes, or (anything else) the uploaded file itself, left on
 * disk so that it is never read whole into memory here.
 */
export type Intake =
  | {
      ok: true;
      type: string;
      body: Buffer | { path: string };
      size: number;
      thumb: Buffer | null;
      width?: number;
      height?: number;
    }
  | { ok: false; tooLarge: true; reason: string };

/** The stored name: the last path segment of what the client sent, 1 to 255 characters. */
export function fileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-style control characters would end up in a Content-Disposition: drop them
  const clean = last.replace(/[\p{Cc}\p{Cs}]/gu, '').trim();
  const cut = [...clean].slice(0, NAME_MAX).join('');
  return cut.length > 0 ? cut : 'file';
}

/** Look at an upload's bytes (in a temporary file) and make what is kept of it. */
export async function intake(path: string): Promise<Intake> {
  const detected = await fileTypeFromFile(path);
  if (detected && IMAGE_TYPES.has(detected.mime)) {
    const image = await inSlot(() => asImage(path, detected.mime));
    if (image) return image;
  }
  const { size } = await stat(path);
  return { ok: true, type: 'application/octet-stream', body: { path }, size, thumb: null };
}

async function asImage(path: string, type: string): Promise<Intake | null> {
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    return null; // says it is an image and is not one: kept as bytes
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > MAX_IMAGE_PIXELS) {
    return { ok: false, tooLarge: true, reason: `an image has at most ${MAX_IMAGE_PIXELS / 1e6} megapixels` };
  }
  try {
    const animated = type === 'image/gif' || type === 'image/webp';
    // auto-orient first: the orientation is metadata too, and goes with the rest
    const input = sharp(path, { animated, limitInputPixels: MAX_IMAGE_PIXELS }).autoOrient();
    const encoded =
      type === 'image/png'
        ? input.png()
        : type === 'image/jpeg'
          ? input.jpeg({ quality: 90 })
          : type === 'image/gif'
            ? input.gif()
            : input.webp();
    const body = await encoded.toBuffer();
    const thumb = await sharp(body, { limitInputPixels: MAX_IMAGE_PIXELS })
      .resize(THUMB_MAX, THUMB_MAX, { fit: 'inside', withoutEnlargement: true })
      .webp()
      .toBuffer();
    const stored = await sharp(body).metadata();
    return {
      ok: true,
      type,
      body,
      size: body.length,
      thumb,
      width: stored.width,
      height: stored.pageHeight ?? stored.height,
    };
  } catch {
    return null;
  }
}
