import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SOURCE_FOLDERS = ['server', 'executors', 'cli', 'autoslim', 'schema', 'migrations', 'bin', 'examples'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|py)$/.test(name) ? [path] : [];
  });
}

/** Every SLIMLAB_ variable the code reads: `env.X`, `env['X']`, a config helper's `'X'` argument, `os.environ.get("X")`. */
function variablesRead(): Set<string> {
  const reads = /env\.(SLIMLAB_\w+)|env\[['"](SLIMLAB_\w+)['"]\]|\(\s*(?:env,\s*)?['"](SLIMLAB_\w+)['"]|environ\.get\(\s*['"](SLIMLAB_\w+)['"]/g;
  const found = new Set<string>();
  for (const file of SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)))) {
    for (const match of readFileSync(file, 'utf8').matchAll(reads)) found.add(match.slice(1).find(Boolean)!);
  }
  return found;
}

/** The variables in the first column of the README's Configuration table. */
function variablesDocumented(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  return new Set([...section.matchAll(/^\| `(SLIMLAB_\w+)` \|/gm)].map((m) => m[1]!));
}

describe("the README's Configuration table", () => {
  it('documents every SLIMLAB_ variable the code reads', () => {
    const read = variablesRead();
    // The scan itself must find reads of each form, or an empty set would pass.
    expect([...read]).toEqual(expect.arrayContaining(['SLIMLAB_PORT', 'SLIMLAB_ORT_PROVIDER', 'SLIMLAB_DATA_THREADS', 'SLIMLAB_TOKEN']));
    const documented = variablesDocumented();
    expect([...read].filter((name) => !documented.has(name)).sort()).toEqual([]);
  });
});
