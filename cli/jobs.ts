import type { Api } from './api';
import { CliError } from './errors';
import type { Io } from './io';

export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface JobStatus {
  id: string;
  kind: string;
  state: JobState;
  progress: number;
  progressMessage: string | null;
  waitingReason: string | null;
  error: string | null;
}

const FIELDS = 'id kind state progress progressMessage waitingReason error';
const UPDATES = `subscription($projectId: ID!) { jobUpdated(projectId: $projectId) { ${FIELDS} } }`;
const CURRENT = `query($id: ID!) { job(id: $id) { ${FIELDS} } }`;

const FINAL: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const BAR_WIDTH = 24;

/**
 * Waits until every job has ended, drawing one progress line for the group; rejects naming the
 * first job that failed or was cancelled.
 */
export async function waitForJobs(api: Api, io: Io, projectId: string, jobIds: readonly string[], label: string): Promise<void> {
  const latest = new Map<string, JobStatus>();
  const bar = new ProgressLine(io, label);
  let stop: () => void = () => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const take = (job: JobStatus) => {
        // The initial read can answer after a newer update arrived; an ended job stays ended.
        if (!jobIds.includes(job.id) || FINAL.includes(latest.get(job.id)?.state ?? 'QUEUED')) return;
        latest.set(job.id, job);
        bar.draw([...latest.values()], jobIds.length);
        const failed = [...latest.values()].find((j) => j.state === 'FAILED' || j.state === 'CANCELLED');
        if (failed) reject(new CliError(`${failed.kind} job ${failed.id} ${failed.state.toLowerCase()}${failed.error ? `: ${failed.error}` : ''}`));
        else if (latest.size === jobIds.length && [...latest.values()].every((j) => FINAL.includes(j.state))) resolve();
      };
      stop = api.subscribe<{ jobUpdated: JobStatus }>(UPDATES, { projectId }, { next: (d) => take(d.jobUpdated), error: reject });
      // Subscribed first, then read the current states: no update can fall between the two.
      api
        .settled()
        .then(() => Promise.all(jobIds.map((id) => api.request<{ job: JobStatus }>(CURRENT, { id }))))
        .then((answers) => answers.forEach(({ job }) => take(job)), reject);
    });
  } finally {
    stop();
    bar.end();
  }
}

/**
 * A redrawn bar on a terminal; in a log, a line per tenth of progress or change of state. Each
 * shows the stage's elapsed time and, once progress has moved, the time left at its rate so far.
 */
export class ProgressLine {
  private lastLogged = '';
  private readonly started: number;
  private first: { at: number; fraction: number } | null = null;

  constructor(
    private readonly io: Io,
    private readonly label: string,
    /** Milliseconds on a monotonic clock. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  draw(jobs: readonly JobStatus[], total: number): void {
    const done = jobs.filter((j) => FINAL.includes(j.state)).length;
    const fraction = jobs.reduce((sum, j) => sum + (FINAL.includes(j.state) ? 1 : j.progress), 0) / total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const running = jobs.find((j) => j.state === 'RUNNING');
    const waiting = jobs.find((j) => j.state === 'QUEUED' && j.waitingReason);
    const detail = running?.progressMessage ?? (waiting ? `waiting: ${waiting.waitingReason}` : '');
    const counts = total > 1 ? ` ${done}/${total} done` : '';
    const text = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.round(fraction * 100)}%${counts} ${this.timing(fraction)}${detail ? ` ${detail}` : ''}`;
    if (this.io.interactive) {
      this.io.err(`\r\x1b[2K${text}`);
      return;
    }
    const key = `${Math.floor(fraction * 10)}|${done}|${waiting ? 'waiting' : ''}`;
    if (key !== this.lastLogged) this.io.err(`${text}\n`);
    this.lastLogged = key;
  }

  end(): void {
    if (this.io.interactive) this.io.err('\n');
  }

  /** "(1m12s elapsed, ~3m05s left)"; the time left only once there is a rate to take it from. */
  private timing(fraction: number): string {
    const now = this.now();
    const elapsed = `${duration(now - this.started)} elapsed`;
    // The first reading is where this bar found the work (a resumed job starts part done).
    if (this.first === null) this.first = { at: now, fraction };
    const rate = (fraction - this.first.fraction) / (now - this.first.at);
    if (fraction >= 1 || !(rate > 0)) return `(${elapsed})`;
    return `(${elapsed}, ~${duration((1 - fraction) / rate)} left)`;
  }
}

/** 42s, 3m05s, 1h02m. */
export function duration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
