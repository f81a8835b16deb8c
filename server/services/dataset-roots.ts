import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { badInput } from '../errors';

/**
 * The real path of the folder `path` names, if it lies under one of `roots` once every link is
 * resolved. Anything else gets one answer, whatever the reason, so a client cannot learn whether a
 * path outside the roots exists.
 */
export async function folderUnderRoots(field: string, path: string, roots: readonly string[]): Promise<string> {
  const refused = badInput(field, `must be a folder under one of the dataset roots (${roots.join(', ')})`);
  const real = await realpath(resolve(path)).catch(() => null);
  if (real === null) throw refused;
  // Roots are resolved on every call: one may be created, or re-pointed, while the server runs.
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  const inside = realRoots.some((root) => root !== null && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)));
  if (!inside || !(await stat(real).then((s) => s.isDirectory(), () => false))) throw refused;
  return real;
}
