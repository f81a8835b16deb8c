import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const WEB = join(ROOT, 'web');
const BUILT = join(WEB, 'dist', 'index.html');

function newestSource(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestSource(join(path, entry))));
}

/**
 * The server serves web/dist; the test builds it with Vite's CLI when it is missing or older than
 * a source file, so a browser test never runs against a stale app.
 */
export function ensureWebBuild(): void {
  const sources = Math.max(newestSource(join(WEB, 'src')), newestSource(join(WEB, 'index.html')), newestSource(join(WEB, 'vite.config.ts')));
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'pipe' });
}
