import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, platform, release } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { DeviceProfile } from '../contract';
import type { ProviderName } from '../onnx/session';

/**
 * The device a probe measures on. Timings are comparable only between runs that share the machine,
 * the runtime and its setup, so all of those go into the fingerprint: a probe on another host, or
 * with another provider or thread count, registers another device.
 */
export function describeDevice(provider: ProviderName, threads: number, note: string | null = null): DeviceProfile {
  const list = cpus();
  const identity = {
    host: hostname(),
    cpuModel: list[0]?.model.trim() ?? 'unknown CPU',
    cores: list.length,
    threads,
    runtime: 'onnxruntime-node',
    provider,
    os: `${platform()} ${release()} ${arch()}`,
    versions: { 'onnxruntime-node': ort.env.versions.node ?? 'unknown', node: process.versions.node },
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  return { fingerprint, ...identity, affinity: cpuAffinity(), note };
}

/**
 * Node cannot pin itself to a core; starting the server under `taskset -c N` does, and the CPUs
 * the process may use are recorded so a reader can tell pinned measurements from unpinned ones.
 */
function cpuAffinity(): string | null {
  try {
    return /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}
