// Build src/ into dist/ (esbuild, file by file; the types are checked by `npm run typecheck`)
// under a lock, so that several `npm start` at once (instances of a cluster on one machine)
// never run a half-written dist/. Also src/shared/ for the browser into
// dist/public/js/, served with public/ under /assets/ (docs/client.md), and the browser build of
// markdown-it and emoji-picker-element (with its data) into dist/public/vendor/. With --if-stale, skip the build when
// dist/ is newer than every source (what `npm start` does: start at once when nothing changed).

import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stamp = join(root, 'dist', '.build-stamp');
const lock = join(root, '.build.lock');
const inputs = ['src', 'tsconfig.json', 'tsconfig.rules.json', 'package.json', 'scripts/build.mjs'];

function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const info = statSync(path);
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, info.mtimeMs);
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

function isFresh() {
  try {
    return statSync(stamp).mtimeMs >= newestInput();
  } catch {
    return false;
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (process.argv.includes('--if-stale') && isFresh()) process.exit(0);

// mkdir is atomic: whoever creates the lock builds, the others wait for it
for (let waited = 0; ; waited += 100) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    if (waited > 120_000) rmSync(lock, { recursive: true, force: true }); // a build that died
    sleep(100);
  }
}
try {
  if (!(process.argv.includes('--if-stale') && isFresh())) {
    const started = performance.now();
    // on stderr: stdout may be a stream of JSON log lines
    process.stderr.write(
      "roomchat: building dist/ (the server from src/, the page's shared rules, vendored browser modules)… ",
    );
    // esbuild is a development dependency: only a build needs it, not a start with dist/ fresh
    const esbuild = await import('esbuild');
    // TypeScript to JavaScript, file by file (esbuild: a second where tsc takes many); the types
    // are checked by `npm run typecheck`, not here
    const sources = (dir) =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    await esbuild.build({
      entryPoints: sources(join(root, 'src')),
      outdir: join(root, 'dist'),
      outbase: join(root, 'src'),
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    await esbuild.build({
      entryPoints: sources(join(root, 'src', 'shared')),
      outdir: join(root, 'dist', 'public', 'js'),
      outbase: join(root, 'src', 'shared'),
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'warning',
    });
    // the browser's Markdown parser, as its package builds it for browsers (one self-contained module)
    mkdirSync(join(root, 'dist', 'public', 'vendor'), { recursive: true });
    copyFileSync(
      join(root, 'node_modules', 'markdown-it', 'dist', 'browser', 'markdown-it.esm.min.mjs'),
      join(root, 'dist', 'public', 'vendor', 'markdown-it.mjs'),
    );
    // the emoji picker (a web component, loaded when first opened) and its data, served from here
    const picker = join(root, 'dist', 'public', 'vendor', 'emoji-picker');
    mkdirSync(picker, { recursive: true });
    for (const file of ['picker.js', 'database.js'])
      copyFileSync(join(root, 'node_modules', 'emoji-picker-element', file), join(picker, file));
    copyFileSync(
      join(root, 'node_modules', 'emoji-picker-element-data', 'en', 'emojibase', 'data.json'),
      join(picker, 'data.json'),
    );
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    process.stderr.write(`built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
