/**
 * Checks worker-protocol bodies at the boundary: anything malformed is a BAD_REQUEST naming the
 * field, before a transaction starts, so a bad request changes nothing.
 */
import { JOB_KINDS, type ExecutorEvent, type JobKind } from '../../executors/contract';
import type { ExecutorRegistration, HeartbeatRequest, JobUpdate, Outcome, RegisterRequest } from '../../executors/protocol';
import { ProtocolError } from '../../executors/protocol-error';

export const MAX_UPDATES_PER_REQUEST = 20_000;
const MAX_TEXT = 100_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const EVENT_TYPES: readonly ExecutorEvent['type'][] = [
  'metrics',
  'checkpoint',
  'runSummary',
  'slimmingStep',
  'candidate',
  'evaluationStats',
  'latencyTable',
  'latencyMeasured',
  'log',
];

function bad(field: string, rule: string): ProtocolError {
  return new ProtocolError('BAD_REQUEST', `${field}: ${rule}`);
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, 'must be an object');
  return value as Record<string, unknown>;
}

function text(field: string, value: unknown, max = 255): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw bad(field, `must be a string of 1 to ${max} characters`);
  return value;
}

function integer(field: string, value: unknown, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw bad(field, `must be an integer from ${min} to ${max}`);
  return value as number;
}

function list(field: string, value: unknown, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw bad(field, `must be a list of at most ${max} items`);
  return value;
}

export function uuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw bad(field, 'must be a UUID');
  return value;
}

export function registerRequest(body: unknown): RegisterRequest {
  const b = object('body', body);
  const executors = list('executors', b.executors, 32).map((e, i): ExecutorRegistration => {
    const entry = object(`executors[${i}]`, e);
    const kinds = list(`executors[${i}].kinds`, entry.kinds, JOB_KINDS.length).map((k, j) => {
      if (!JOB_KINDS.includes(k as JobKind)) throw bad(`executors[${i}].kinds[${j}]`, `must be one of ${JOB_KINDS.join(', ')}`);
      return k as JobKind;
    });
    const caps = object(`executors[${i}].capabilities`, entry.capabilities);
    for (const key of ['backend', 'provider', 'device'] as const) text(`executors[${i}].capabilities.${key}`, caps[key], 1000);
    object(`executors[${i}].capabilities.versions`, caps.versions);
    if (caps.latencyDevice !== undefined) {
      const device = object(`executors[${i}].capabilities.latencyDevice`, caps.latencyDevice);
      if (typeof device.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(device.fingerprint)) {
        throw bad(`executors[${i}].capabilities.latencyDevice.fingerprint`, 'must be a sha256 hex digest');
      }
    }
    return { name: text(`executors[${i}].name`, entry.name, 100), kinds, capabilities: caps as unknown as ExecutorRegistration['capabilities'] };
  });
  if (executors.length === 0) throw bad('executors', 'must name at least one executor');
  if (new Set(executors.map((e) => e.name)).size !== executors.length) throw bad('executors', 'must not repeat a name');
  return {
    host: text('host', b.host),
    pid: integer('pid', b.pid, 0, 2 ** 31 - 1),
    version: text('version', b.version, 50),
    concurrency: integer('concurrency', b.concurrency, 1, 256),
    executors,
  };
}

export function heartbeatRequest(body: unknown): HeartbeatRequest {
  const b = object('body', body);
  return {
    workerId: uuid('workerId', b.workerId),
    leases: list('leases', b.leases, 1024).map((l, i) => {
      const lease = object(`leases[${i}]`, l);
      return { jobId: uuid(`leases[${i}].jobId`, lease.jobId), token: text(`leases[${i}].token`, lease.token, 64) };
    }),
  };
}

export function leaseOf(body: Record<string, unknown>): { attempt: number; token: string } {
  const lease = object('lease', body.lease);
  return { attempt: integer('lease.attempt', lease.attempt, 1, 1_000_000), token: text('lease.token', lease.token, 64) };
}

export function updatesOf(body: Record<string, unknown>): JobUpdate[] {
  return list('updates', body.updates, MAX_UPDATES_PER_REQUEST).map((u, i) => {
    const update = object(`updates[${i}]`, u);
    switch (update.type) {
      case 'progress': {
        if (typeof update.fraction !== 'number' || !Number.isFinite(update.fraction)) throw bad(`updates[${i}].fraction`, 'must be a finite number');
        if (update.message !== undefined) text(`updates[${i}].message`, update.message, 1000);
        return update as JobUpdate;
      }
      case 'state':
        if (!('state' in update)) throw bad(`updates[${i}].state`, 'is required');
        return update as JobUpdate;
      case 'event': {
        const event = object(`updates[${i}].event`, update.event);
        if (!EVENT_TYPES.includes(event.type as ExecutorEvent['type'])) throw bad(`updates[${i}].event.type`, `must be one of ${EVENT_TYPES.join(', ')}`);
        if (event.type === 'metrics') metricPoints(`updates[${i}].event.points`, event.points);
        if (event.type === 'log') text(`updates[${i}].event.message`, event.message, MAX_TEXT);
        return update as JobUpdate;
      }
      default:
        throw bad(`updates[${i}].type`, 'must be progress, state or event');
    }
  });
}

function metricPoints(field: string, value: unknown): void {
  list(field, value, 1_000_000).forEach((p, i) => {
    const point = object(`${field}[${i}]`, p);
    text(`${field}[${i}].name`, point.name, 200);
    integer(`${field}[${i}].step`, point.step, 0, Number.MAX_SAFE_INTEGER);
    if (typeof point.value !== 'number' || !Number.isFinite(point.value)) throw bad(`${field}[${i}].value`, 'must be a finite number');
  });
}

/** The worker asking for its next job with a finish, if it does. */
export function claimNextOf(body: Record<string, unknown>): string | null {
  if (body.claimNext === undefined) return null;
  return uuid('claimNext.workerId', object('claimNext', body.claimNext).workerId);
}

export function outcomeOf(body: Record<string, unknown>): Outcome {
  const outcome = object('outcome', body.outcome);
  switch (outcome.type) {
    case 'succeeded':
      return { type: 'succeeded', result: outcome.result ?? null };
    case 'failed':
      return { type: 'failed', error: text('outcome.error', outcome.error, MAX_TEXT) };
    case 'cancelled':
    case 'released':
      return { type: outcome.type };
    default:
      throw bad('outcome.type', 'must be succeeded, failed, cancelled or released');
  }
}
