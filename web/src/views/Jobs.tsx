import { useRef, useState } from 'preact/hooks';
import { gql } from '../api/client';
import type { Executor, Job as JobBase } from '../api/types';
import { JobTitle } from '../components/JobTitle';
import { Await, Empty, ErrorBox, LiveBadge } from '../components/Status';
import { timeOf } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { duration, ordinal } from '../jobFormat';

const JOB_FIELDS = `id kind state progress progressMessage attempts maxAttempts cancelRequested error waitingReason queuePosition waitingFor
  executorName backend provider device createdAt startedAt finishedAt subjectType subjectId payload`;

const JOBS_QUERY = `query Jobs($projectId: ID!) {
  jobs(filter: { projectId: $projectId }, first: 100) { ${JOB_FIELDS} }
  supernets(filter: { projectId: $projectId }) { id name }
}`;
const EXECUTORS_QUERY = `query Executors { executors { id name kinds backend provider device host online lastSeenAt note } }`;
const JOB_UPDATED = `subscription JobUpdated($projectId: ID!) { jobUpdated(projectId: $projectId) { ${JOB_FIELDS} } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`;
const RETRY = `mutation Retry($id: ID!) { retryJob(id: $id) { ${JOB_FIELDS} } }`;

type Job = JobBase & {
  queuePosition: number | null;
  waitingFor: string | null;
  subjectType: string | null;
  subjectId: string | null;
  payload: Record<string, unknown>;
};

/** Newest first, as the API lists them; an update replaces the job in place. */
function upsert(jobs: Job[], job: Job): Job[] {
  return jobs.some((j) => j.id === job.id) ? jobs.map((j) => (j.id === job.id ? job : j)) : [job, ...jobs];
}

export function Jobs({ projectId }: { projectId: string }) {
  const jobs = useQuery<{ jobs: Job[]; supernets: { id: string; name: string }[] }>(JOBS_QUERY, { projectId });
  const executors = useQuery<{ executors: Executor[] }>(EXECUTORS_QUERY);
  // A job that starts or ends moves every queued job behind it: the list is read again.
  const states = useRef(new Map<string, string>());
  const live = useSubscription<{ jobUpdated: Job }>(JOB_UPDATED, { projectId }, ({ jobUpdated }) => {
    jobs.update((data) => ({ ...data, jobs: upsert(data.jobs, jobUpdated) }));
    if (states.current.get(jobUpdated.id) !== jobUpdated.state) {
      states.current.set(jobUpdated.id, jobUpdated.state);
      jobs.reload();
    }
  });
  const [actionError, setActionError] = useState<string | null>(null);

  const act = async (mutation: string, id: string, field: 'cancelJob' | 'retryJob') => {
    setActionError(null);
    try {
      const result = await gql<Record<typeof field, Job>>(mutation, { id });
      // While live, jobUpdated delivers this change in order with the ones after it; the mutation's
      // answer may arrive after a newer event and must not overwrite it.
      if (live !== null) jobs.update((data) => ({ ...data, jobs: upsert(data.jobs, result[field]) }));
    } catch (error) {
      setActionError(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <section class="view jobs">
      <h2>
        Jobs <LiveBadge error={live} />
      </h2>
      {actionError && <ErrorBox message={actionError} />}
      <Await
        state={jobs.state}
        what="jobs"
        ready={(data) => {
          const supernetNames = new Map(data.supernets.map((s) => [s.id, s.name]));
          return data.jobs.length === 0 ? (
            <Empty>
              <p>No job in this project yet. Training, slimming and retraining each run as a job.</p>
            </Empty>
          ) : (
            <table class="grid jobs-table">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>State</th>
                  <th>Progress</th>
                  <th>Executor</th>
                  <th>Backend / provider / device</th>
                  <th>Attempts</th>
                  <th>Started</th>
                  <th>Finished</th>
                  <th class="num">Took</th>
                  <th>Details</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((job) => (
                  <tr key={job.id} data-job={job.id} data-kind={job.kind} data-state={job.state}>
                    <td>
                      <JobTitle job={job} projectId={projectId} supernets={supernetNames} />
                      <div class="hint">
                        {job.kind} · <code>{job.id.slice(0, 8)}</code>
                      </div>
                    </td>
                    <td>
                      <span class={`badge ${job.state.toLowerCase()}`}>{job.state.toLowerCase()}</span>
                      {job.cancelRequested && job.state === 'RUNNING' && <span class="hint"> cancelling…</span>}
                      {job.state === 'QUEUED' && <QueuePlace job={job} />}
                    </td>
                    <td class="progress-cell">
                      <progress value={job.progress} max={1} />
                      <span class="num">{Math.round(job.progress * 100)}%</span>
                      {job.progressMessage && <div class="hint">{job.progressMessage}</div>}
                    </td>
                    <td>{job.executorName ?? '—'}</td>
                    <td>{[job.backend, job.provider, job.device].filter(Boolean).join(' / ') || '—'}</td>
                    <td class="num">
                      {job.attempts}/{job.maxAttempts}
                    </td>
                    <td>{timeOf(job.startedAt)}</td>
                    <td class="finished">{timeOf(job.finishedAt)}</td>
                    <td class="num duration">{job.startedAt && job.finishedAt ? duration(Date.parse(job.finishedAt) - Date.parse(job.startedAt)) : '—'}</td>
                    <td class="details">
                      {job.error && <div class="job-error">{job.error}</div>}
                    </td>
                    <td>
                      {(job.state === 'QUEUED' || job.state === 'RUNNING') && (
                        <button disabled={job.cancelRequested} onClick={() => act(CANCEL, job.id, 'cancelJob')}>
                          Cancel
                        </button>
                      )}
                      {(job.state === 'FAILED' || job.state === 'CANCELLED') && <button onClick={() => act(RETRY, job.id, 'retryJob')}>Retry</button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      />
      <h2>
        Executors <button class="link" onClick={executors.reload}>refresh</button>
      </h2>
      <Await
        state={executors.state}
        what="executors"
        ready={(data) =>
          data.executors.length === 0 ? (
            <Empty>
              <p>No executor registered: queued jobs wait until a worker with a matching plugin starts.</p>
            </Empty>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kinds</th>
                  <th>Backend / provider</th>
                  <th>Device</th>
                  <th>Host</th>
                  <th>Status</th>
                  <th>Note</th>
                </tr>
              </thead>
              <tbody>
                {data.executors.map((e) => (
                  <tr key={e.id}>
                    <td>{e.name}</td>
                    <td>{e.kinds.join(', ')}</td>
                    <td>
                      {e.backend} / {e.provider}
                    </td>
                    <td>{e.device}</td>
                    <td>{e.host}</td>
                    <td>
                      <span class={`badge ${e.online ? 'succeeded' : 'failed'}`}>{e.online ? 'online' : 'offline'}</span> seen {timeOf(e.lastSeenAt)}
                    </td>
                    <td>{e.note ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      />
    </section>
  );
}

/** "3rd in line · waiting for 2 RETRAIN jobs queued before it": where a queued job stands, and why. */
function QueuePlace({ job }: { job: Job }) {
  return (
    <div class="waiting queue-place" title={job.waitingReason ?? undefined}>
      {job.queuePosition !== null && <div>{ordinal(job.queuePosition)} in line</div>}
      {job.waitingFor && <div>waiting for {job.waitingFor}</div>}
    </div>
  );
}
