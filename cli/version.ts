import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** slimlab's version, from the package.json above this file (cli/ when run from source, dist/cli/ when built). */
export function slimlabVersion(): string {
  for (let folder = __dirname; ; folder = dirname(folder)) {
    try {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'slimlab' && manifest.version) return manifest.version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (dirname(folder) === folder) throw new Error('slimlab: package.json not found above the CLI');
  }
}
