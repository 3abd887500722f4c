// What `npm test` needs besides Node packages: Debian's Chromium (the browser tests; never a
// downloaded browser) and nginx (the reverse-proxy test). Missing ones are installed from Debian
// when this runs as root with apt-get; otherwise it says the one command that installs them and
// stops, before any test runs. PostgreSQL and Redis are expected running (README.md).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { path: '/usr/bin/chromium', pkg: 'chromium', why: 'the browser tests' },
  { path: '/usr/sbin/nginx', pkg: 'nginx', why: 'the reverse-proxy test' },
  { path: '/usr/bin/redis-server', pkg: 'redis-server', why: 'the cluster tests that restart Redis' },
];

const missing = NEEDED.filter((n) => !existsSync(n.path));
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((n) => n.pkg);
const what = missing.map((n) => `${n.path} (${n.pkg}, for ${n.why})`).join(' and ');
const command = `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
const root = process.getuid?.() === 0;
const apt = existsSync('/usr/bin/apt-get');

if (!root || !apt) {
  process.stderr.write(
    `npm test needs ${what}, missing on this machine.\n` +
      (apt
        ? `Install ${pkgs.length > 1 ? 'them' : 'it'} with:\n\n  sudo sh -c '${command}'\n\nthen run npm test again.\n`
        : `This is not a Debian-like system (no apt-get): install ${pkgs.join(' and ')} so that ${missing
            .map((n) => n.path)
            .join(' and ')} exist${missing.length > 1 ? '' : 's'}, then run npm test again.\n`),
  );
  process.exit(1);
}

process.stdout.write(`npm test needs ${what}: installing from Debian (${command})…\n`);
const started = Date.now();
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
} catch (err) {
  process.stderr.write(
    `installing ${pkgs.join(' and ')} failed (${err instanceof Error ? err.message.split('\n')[0] : err}): ` +
      `install ${pkgs.length > 1 ? 'them' : 'it'} by hand (${command}), then run npm test again.\n`,
  );
  process.exit(1);
}
for (const n of missing) {
  if (!existsSync(n.path)) {
    process.stderr.write(`${n.pkg} was installed but ${n.path} is still missing\n`);
    process.exit(1);
  }
}
process.stdout.write(`installed ${pkgs.join(' and ')} in ${Math.round((Date.now() - started) / 1000)} s\n`);
