/**
 * The Node.js this release needs: package.json's `engines.node` (one place), checked first thing
 * at start, so that an older Node says so in one sentence instead of failing somewhere later.
 */
// what this module uses must run on old versions too: it is what tells them they are too old
import { readFileSync } from 'node:fs';

/** The lowest version `engines.node` (`>=X.Y[.Z]`) accepts, as `[major, minor, patch]`. */
export function requiredNode(range = readEngines()): [number, number, number] {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!m) throw new Error(`engines.node must read ">=X.Y.Z", not "${range}"`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function readEngines(): string {
  // src/ and dist/ both sit next to package.json
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    engines?: { node?: string };
  };
  return pkg.engines?.node ?? '>=0';
}

/** Why this Node cannot run roomchat, or null when it can. */
export function nodeProblem(version = process.versions.node, required = requiredNode()): string | null {
  const have = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = required[i] ?? 0;
    if (a > b) return null;
    if (a < b) {
      return `roomchat needs Node.js ${required.join('.')} or newer; this is Node.js ${version}. Install a newer Node.js (https://nodejs.org) and run it again.`;
    }
  }
  return null;
}
