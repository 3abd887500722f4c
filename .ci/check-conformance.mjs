// Judge a conformance run: it passes when every failing test is a known divergence listed in
// .ci/conformance-divergences.txt (a test of the suite that contradicts PROTOCOL.md; each is
// explained in docs/protocol-notes.md). Anything else failing, or no test run at all, fails.
import { readFileSync } from 'node:fs';

const [logPath, statusArg] = process.argv.slice(2);
const log = readFileSync(logPath, 'utf8');
const status = Number(statusArg);
const known = readFileSync(new URL('./conformance-divergences.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const count = (name) => Number(log.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? Number.NaN);
const failed = [...log.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1].trim());
const unexpected = failed.filter((name) => !known.includes(name));
const passed = count('pass');

if (!(passed > 0)) {
  console.log('conformance: no test passed (the suite did not run); see the log above');
  process.exit(1);
}
if (status !== 0 && failed.length === 0) {
  console.log(`conformance: the runner exited with ${status} without a failing test; see the log above`);
  process.exit(1);
}
if (unexpected.length > 0) {
  console.log(`conformance: ${unexpected.length} failing test(s) that are not known divergences:`);
  for (const name of unexpected) console.log(`  - ${name}`);
  process.exit(1);
}
for (const name of known.filter((n) => !failed.includes(n))) {
  console.log(`conformance: known divergence now passes (remove it from the list): ${name}`);
}
console.log(
  `conformance: ${passed} passed; ${failed.length} known divergence(s) from PROTOCOL.md, explained in docs/protocol-notes.md`,
);
for (const name of failed) console.log(`  - ${name}`);
