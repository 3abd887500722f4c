/**
 * The entry point: first the Node.js version (nothing of the app is loaded before, so an older
 * Node is told so in one sentence instead of failing on some newer API), then main.ts.
 */
import { nodeProblem } from './node-version.js';

const tooOld = nodeProblem();
if (tooOld) {
  process.stderr.write(`${tooOld}\n`);
  process.exit(1);
}
await import('./main.js');
