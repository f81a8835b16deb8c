import { cpus } from 'node:os';

/** The CPU model and core count, as jobs record what they ran on. */
export function cpuDescription(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'} (${list.length} cores)`;
}
