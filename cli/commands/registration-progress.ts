import type { Api } from '../api';
import type { Io } from '../io';

const PHASES: Record<string, string> = { headers: 'reading image headers', statistics: 'computing the normalization' };

/**
 * Prints the server's progress reading dataset `name` of the project until the returned function is
 * called; resolves once the subscription is set up, so no progress of the registration that follows
 * is missed.
 */
export async function followRegistration(api: Api, io: Io, projectId: string, name: string): Promise<() => void> {
  type Progress = { datasetRegistration: { name: string; phase: string; done: number; total: number } };
  const stop = api.subscribe<Progress>(`subscription($p: ID!) { datasetRegistration(projectId: $p) { name phase done total } }`, { p: projectId }, {
    next: ({ datasetRegistration: p }) => {
      if (p.name === name) io.err(`registering "${name}": ${PHASES[p.phase] ?? p.phase} ${p.done}/${p.total}\n`);
    },
    // Progress is a courtesy: the registration's own answer says whether it worked.
    error: () => undefined,
  });
  await api.settled().catch(() => undefined);
  return stop;
}
