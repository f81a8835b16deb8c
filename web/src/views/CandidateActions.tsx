/** What a user does with one leaderboard candidate: export it to ONNX, retrain it, read its runs. */
import { useState } from 'preact/hooks';
import { fetchFile, gql } from '../api/client';
import type { Job } from '../api/types';
import { RunCurves } from '../components/RunCurves';
import { Await, ErrorBox } from '../components/Status';
import { compact, percent, timeOf } from '../format';
import { useQuery, useSubscription } from '../hooks';

export type CandidateAction = 'export' | 'retrain' | 'runs';

const CONTEXT_QUERY = `query CandidateContext($id: ID!, $spaceId: ID!, $projectId: ID!) {
  candidate(id: $id) {
    id
    runs { id kind status seed init finishedAt summary checkpoint { id } }
    trajectory { supernet { id } }
  }
  supernets(filter: { searchSpaceId: $spaceId }) { id name checkpoint { id } dataset { id } }
  datasets(projectId: $projectId) { id name }
}`;

interface Run {
  id: string;
  kind: string;
  status: string;
  seed: number;
  init: 'SCRATCH' | 'SUPERNET';
  finishedAt: string | null;
  summary: { top1?: number } | null;
  checkpoint: { id: string } | null;
}

interface CandidateContext {
  candidate: { id: string; runs: Run[]; trajectory: { supernet: { id: string } } | null };
  supernets: { id: string; name: string; checkpoint: { id: string } | null; dataset: { id: string } }[];
  datasets: { id: string; name: string }[];
}

const JOB_FIELDS = 'id kind state progress progressMessage error waitingReason';

const EXPORT = `mutation Export($input: ExportCandidateInput!) { exportCandidate(input: $input) { ${JOB_FIELDS} } }`;
const RETRAIN = `mutation Retrain($input: RetrainCandidateInput!) { retrainCandidate(input: $input) { ${JOB_FIELDS} } }`;
const JOB_QUERY = `query FollowedJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const JOB_UPDATES = `subscription FollowJob($jobId: ID!) { jobUpdated(jobId: $jobId) { ${JOB_FIELDS} } }`;
const EXPORT_RESULT = `query ExportResult($id: ID!) { job(id: $id) { result } }`;
const ARTIFACT = `query ExportedFile($id: ID!) { artifact(id: $id) { downloadUrl name bytes } }`;

type FollowedJob = Pick<Job, 'id' | 'kind' | 'state' | 'progress' | 'progressMessage' | 'error' | 'waitingReason'>;

const INIT_LABEL: Record<Run['init'], string> = { SCRATCH: 'from scratch', SUPERNET: "fine-tuned from the supernet's weights" };

const BN_CHOICES = [
  ['FOLDED', 'folded into the convolutions'],
  ['RUNNING', 'kept as BatchNormalization nodes'],
] as const;

interface Props {
  readonly action: CandidateAction;
  readonly candidateId: string;
  readonly projectId: string;
  readonly spaceId: string;
}

export function CandidateActions({ action, candidateId, projectId, spaceId }: Props) {
  const context = useQuery<CandidateContext>(CONTEXT_QUERY, { id: candidateId, spaceId, projectId });
  return (
    <div class="candidate-actions" data-action={action}>
      <Await
        state={context.state}
        what="the candidate's supernets and runs"
        ready={(data) =>
          action === 'export' ? (
            <ExportForm candidateId={candidateId} context={data} />
          ) : action === 'retrain' ? (
            <RetrainForm candidateId={candidateId} context={data} onQueued={context.reload} />
          ) : (
            <Runs runs={data.candidate.runs} />
          )
        }
      />
    </div>
  );
}

function runLabel(run: Run): string {
  const top1 = run.summary?.top1;
  return `retrained ${INIT_LABEL[run.init]}, seed ${run.seed}${typeof top1 === 'number' ? `, test top-1 ${percent(top1)}` : ''}`;
}

/** Finished retrainings with saved weights: the runs an export can read. */
function exportableRuns(context: CandidateContext): Run[] {
  return context.candidate.runs.filter((r) => r.kind === 'RETRAIN' && r.status === 'FINISHED' && r.checkpoint);
}

function ExportForm({ candidateId, context }: { candidateId: string; context: CandidateContext }) {
  const supernets = context.supernets.filter((s) => s.checkpoint);
  const runs = exportableRuns(context);
  const own = context.candidate.trajectory?.supernet.id;
  const first = runs.at(-1) ? `run:${runs.at(-1)!.id}` : supernets.length ? `supernet:${(supernets.find((s) => s.id === own) ?? supernets[0]!).id}` : '';
  const [source, setSource] = useState(first);
  const [batchNorm, setBatchNorm] = useState<string>('FOLDED');
  const [job, setJob] = useState<FollowedJob | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (!first) {
    return <p class="hint">Nothing to export yet: an export needs a supernet with a saved checkpoint, or a finished retraining of this candidate.</p>;
  }
  const start = (event: Event) => {
    event.preventDefault();
    const [kind, id] = source.split(':');
    const input = { candidateId, batchNorm, ...(kind === 'run' ? { runId: id } : { supernetId: id }) };
    setError(null);
    setStarting(true);
    gql<{ exportCandidate: FollowedJob }>(EXPORT, { input })
      .then(
        ({ exportCandidate }) => setJob(exportCandidate),
        (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
      )
      .finally(() => setStarting(false));
  };
  return (
    <form class="export-form" onSubmit={start}>
      <h4>Export to ONNX</h4>
      <label>
        Weights
        <select name="source" value={source} onChange={(e) => setSource(e.currentTarget.value)}>
          {runs.map((r) => (
            <option key={r.id} value={`run:${r.id}`}>
              {runLabel(r)}
            </option>
          ))}
          {supernets.map((s) => (
            <option key={s.id} value={`supernet:${s.id}`}>
              sliced from supernet {s.name} (BN recalibrated on training images)
            </option>
          ))}
        </select>
      </label>
      <label>
        Batch norm
        <select name="batchNorm" value={batchNorm} onChange={(e) => setBatchNorm(e.currentTarget.value)}>
          {BN_CHOICES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={starting}>
        Start export
      </button>
      {error && <ErrorBox message={error} />}
      {job && <JobProgress key={job.id} job={job} done={(id) => <ExportedFile jobId={id} />} />}
    </form>
  );
}

function parseSeeds(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) return 'Seeds must be whole numbers of zero or more, separated by commas, e.g. 0, 1, 2.';
  const seeds = parts.map(Number);
  return new Set(seeds).size === seeds.length ? seeds : 'Each seed may be given once.';
}

function RetrainForm({ candidateId, context, onQueued }: { candidateId: string; context: CandidateContext; onQueued: () => void }) {
  const sliceable = context.supernets.filter((s) => s.checkpoint);
  const own = context.supernets.find((s) => s.id === context.candidate.trajectory?.supernet.id) ?? context.supernets[0];
  const [seeds, setSeeds] = useState('0, 1, 2');
  const [init, setInit] = useState<Run['init']>('SCRATCH');
  const [supernetId, setSupernetId] = useState((sliceable.find((s) => s.id === own?.id) ?? sliceable[0])?.id ?? '');
  const [datasetId, setDatasetId] = useState(own?.dataset.id ?? context.datasets[0]?.id ?? '');
  const [jobs, setJobs] = useState<FollowedJob[]>([]);
  const [error, setError] = useState<string | null>(null);

  if (context.datasets.length === 0) return <p class="hint">This project has no dataset to retrain on.</p>;
  const start = (event: Event) => {
    event.preventDefault();
    const parsed = parseSeeds(seeds);
    if (typeof parsed === 'string') return setError(parsed);
    setError(null);
    const input = { candidateId, datasetId, seeds: parsed, init, ...(init === 'SUPERNET' ? { supernetId } : {}) };
    gql<{ retrainCandidate: FollowedJob[] }>(RETRAIN, { input }).then(
      ({ retrainCandidate }) => {
        setJobs(retrainCandidate);
        onQueued();
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  return (
    <form class="retrain-form" onSubmit={start}>
      <h4>Retrain (default recipe)</h4>
      <label>
        Seeds
        <input name="seeds" value={seeds} onInput={(e) => setSeeds(e.currentTarget.value)} />
      </label>
      <label>
        Start from
        <select name="init" value={init} onChange={(e) => setInit(e.currentTarget.value as Run['init'])}>
          <option value="SCRATCH">scratch (random weights)</option>
          <option value="SUPERNET" disabled={sliceable.length === 0}>
            a supernet's weights (fine-tune)
          </option>
        </select>
      </label>
      {init === 'SUPERNET' && (
        <label>
          Supernet
          <select name="supernet" value={supernetId} onChange={(e) => setSupernetId(e.currentTarget.value)}>
            {sliceable.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Dataset
        <select name="dataset" value={datasetId} onChange={(e) => setDatasetId(e.currentTarget.value)}>
          {context.datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Queue retraining</button>
      {error && <ErrorBox message={error} />}
      {jobs.length > 0 && (
        <ul class="followed-jobs">
          {jobs.map((job) => (
            <li key={job.id}>
              <JobProgress job={job} done={() => <span>finished; the leaderboard counts it</span>} />
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function ended(job: FollowedJob): boolean {
  return job.state === 'SUCCEEDED' || job.state === 'FAILED' || job.state === 'CANCELLED';
}

/** One job's state as it changes: queued (and why), running with its progress, and how it ended. */
function JobProgress({ job: initial, done }: { job: FollowedJob; done: (jobId: string) => preact.JSX.Element }) {
  const polled = useQuery<{ job: FollowedJob }>(JOB_QUERY, { id: initial.id });
  const [pushed, setPushed] = useState<FollowedJob | null>(null);
  const lost = useSubscription<{ jobUpdated: FollowedJob }>(JOB_UPDATES, { jobId: initial.id }, ({ jobUpdated }) => setPushed(jobUpdated));
  // The subscription only sees changes after it opened; the query covers what happened before.
  const job = pushed ?? (polled.state.status === 'ready' ? polled.state.data.job : initial);
  return (
    <div class="job-progress" data-job={job.id} data-state={job.state}>
      <span class={`badge state ${job.state.toLowerCase()}`}>{job.state.toLowerCase()}</span>{' '}
      {job.state === 'QUEUED' && <span class="hint">{job.waitingReason ?? 'waiting for a worker'}</span>}
      {job.state === 'RUNNING' && (
        <>
          <progress max={1} value={job.progress} /> {Math.round(job.progress * 100)}% {job.progressMessage && <span class="hint">{job.progressMessage}</span>}
        </>
      )}
      {job.state === 'SUCCEEDED' && done(job.id)}
      {job.state === 'FAILED' && <ErrorBox message={job.error ?? 'the job failed'} />}
      {lost && !ended(job) && <span class="hint error"> live updates lost: {lost}</span>}
    </div>
  );
}

function bytesText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${compact(bytes / 1024).replace(/ /g, '')} KiB`;
}

/** The finished export's file, as a download link, with what it scored on the test split. */
function ExportedFile({ jobId }: { jobId: string }) {
  const result = useQuery<{ job: { result: { artifact?: { id: string }; testTop1?: number; batchNorm?: string; weights?: string } | null } }>(EXPORT_RESULT, {
    id: jobId,
  });
  return (
    <Await
      state={result.state}
      what="the exported file"
      ready={({ job }) =>
        job.result?.artifact ? (
          <ExportDownload artifactId={job.result.artifact.id} testTop1={job.result.testTop1 ?? null} />
        ) : (
          <ErrorBox message="The export finished without a file." />
        )
      }
    />
  );
}

/** Hands a fetched file to the browser as a download under its own name. */
function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // The click has started the download; the URL is not needed past this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function ExportDownload({ artifactId, testTop1 }: { artifactId: string; testTop1: number | null }) {
  const artifact = useQuery<{ artifact: { downloadUrl: string; name: string; bytes: number } }>(ARTIFACT, { id: artifactId });
  const [failed, setFailed] = useState<string | null>(null);
  return (
    <Await
      state={artifact.state}
      what="the exported file"
      ready={({ artifact: file }) => (
        <span class="export-done">
          <button
            type="button"
            class="link download"
            onClick={() => {
              setFailed(null);
              fetchFile(file.downloadUrl).then(
                (blob) => saveFile(blob, file.name),
                (e: unknown) => setFailed(e instanceof Error ? e.message : String(e)),
              );
            }}
          >
            Download {file.name}
          </button>{' '}
          ({bytesText(file.bytes)}) · the file's top-1 on the test split: {percent(testTop1)}
          {failed && <ErrorBox message={`Could not download ${file.name}: ${failed}`} />}
        </span>
      )}
    />
  );
}

/** The candidate's training runs, newest first, each with its curves on demand. */
function Runs({ runs }: { runs: Run[] }) {
  const [open, setOpen] = useState<string | null>(null);
  if (runs.length === 0) return <p class="hint">No training run of this candidate yet: Retrain queues one per seed.</p>;
  const newestFirst = [...runs].reverse();
  return (
    <div class="runs">
      <h4>Training runs</h4>
      <table class="grid">
        <thead>
          <tr>
            <th>Seed</th>
            <th>Weights</th>
            <th>Status</th>
            <th>Finished</th>
            <th class="num">Test top-1</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((run) => (
            <tr key={run.id} data-run={run.id}>
              <td class="num">{run.seed}</td>
              <td>{INIT_LABEL[run.init]}</td>
              <td>{run.status.toLowerCase()}</td>
              <td>{timeOf(run.finishedAt)}</td>
              <td class="num">{percent(run.summary?.top1)}</td>
              <td>
                <button class="link" onClick={() => setOpen(open === run.id ? null : run.id)}>
                  {open === run.id ? 'Hide curves' : 'Curves'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && <RunCurves key={open} runId={open} running={['PENDING', 'RUNNING'].includes(runs.find((r) => r.id === open)!.status)} />}
    </div>
  );
}
