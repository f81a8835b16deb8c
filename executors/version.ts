import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** slimlab's version, from the package.json above this file (sources and dist/ alike). */
export const SLIMLAB_VERSION: string = (() => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'slimlab' && pkg.version) return pkg.version;
  }
  return 'unknown';
})();
