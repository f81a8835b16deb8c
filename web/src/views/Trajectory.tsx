import { useMemo } from 'preact/hooks';
import type { ChannelUnit, CostConstraint, JobState, SlimmingStep, TableValidation } from '../api/types';
import { Chart, type ChartOption } from '../components/Chart';
import { unitWidthChart, widthsOf } from '../unitWidths';
import { VALIDATION_FIELDS, validationSummary } from '../components/LatencyValidation';
import { Await, Empty, LiveBadge } from '../components/Status';
import { compact, percent, timeOf } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { navigate, routeHref } from '../route';

const STEP_FIELDS = 'id index unitIndex unitName channels macs params accuracy accuracyDrop proposals { unitIndex cost score accuracy screenAccuracy screenedOut }';

const LIST_QUERY = `query TrajectoryList($projectId: ID!) {
  supernets(filter: { projectId: $projectId }) { id name searchSpace { name } trajectories { id constraint targets createdAt } }
}`;

const DETAIL_QUERY = `query Trajectory($id: ID!) {
  trajectory(id: $id) {
    id constraint targets bnMode scoring evalBatchSize evaluations cacheHits
    latencyWarning latencyTable { ${VALIDATION_FIELDS} }
    steps { ${STEP_FIELDS} }
    picks { target step searchAccuracy candidate { id } }
    supernet { name searchSpace { units { index name max members layers } } }
  }
}`;

const PROGRESS = `subscription SlimmingProgress($id: ID!) { slimmingProgress(trajectoryId: $id) { ${STEP_FIELDS} } }`;

/** The SLIM job that walks the trajectory: whether it still runs decides whether the page is live. */
const SLIM_JOBS = `query SlimJobs($projectId: ID!) { jobs(filter: { projectId: $projectId, kind: SLIM }, first: 500) { id state subjectId finishedAt } }`;
const SLIM_JOB_UPDATED = `subscription SlimJobUpdated($projectId: ID!) { jobUpdated(projectId: $projectId) { id kind state subjectId finishedAt } }`;

interface ProposalScore {
  unitIndex: number;
  cost: number;
  score: number;
  accuracy: number;
  screenAccuracy: number | null;
  screenedOut: boolean;
}

type Step = SlimmingStep & { proposals: ProposalScore[] };

interface Pick {
  target: number;
  step: number | null;
  searchAccuracy: number;
  candidate: { id: string };
}

interface SlimJob {
  id: string;
  state: JobState;
  subjectId: string | null;
  finishedAt: string | null;
}

interface TrajectoryDetail {
  id: string;
  constraint: CostConstraint;
  targets: number[];
  bnMode: string;
  scoring: string;
  evalBatchSize: number;
  evaluations: number;
  cacheHits: number;
  latencyWarning: string | null;
  latencyTable: { version: number; validation: TableValidation } | null;
  steps: Step[];
  picks: Pick[];
  supernet: { name: string; searchSpace: { units: ChannelUnit[] } };
}

interface SupernetTrajectories {
  id: string;
  name: string;
  searchSpace: { name: string };
  trajectories: { id: string; constraint: CostConstraint; targets: number[]; createdAt: string }[];
}

interface Props {
  readonly projectId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Trajectory({ projectId, params }: Props) {
  const list = useQuery<{ supernets: SupernetTrajectories[] }>(LIST_QUERY, { projectId });
  return (
    <section class="view trajectory">
      <h2>Slimming trajectory</h2>
      <Await
        state={list.state}
        what="trajectories"
        ready={({ supernets }) => {
          const all = supernets.flatMap((s) => s.trajectories.map((t, i) => ({ ...t, label: `${s.name} (${s.searchSpace.name}) #${i + 1}` })));
          if (all.length === 0) {
            return (
              <Empty>
                <p>No slimming trajectory in this project yet.</p>
                <p>Start one with the startSlimming mutation once a supernet has a checkpoint.</p>
              </Empty>
            );
          }
          const chosen = all.find((t) => t.id === params.trajectory) ?? all.at(-1)!;
          return (
            <>
              <label class="picker">
                Trajectory
                <select
                  value={chosen.id}
                  onChange={(e) => navigate('trajectory', { ...params, trajectory: e.currentTarget.value, step: null })}
                >
                  {all.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.label}: {t.constraint} ≤ {t.targets.map(compact).join(' / ')}
                    </option>
                  ))}
                </select>
              </label>
              <TrajectoryDetailView key={chosen.id} id={chosen.id} projectId={projectId} params={params} />
            </>
          );
        }}
      />
    </section>
  );
}

function TrajectoryDetailView({ id, projectId, params }: { id: string; projectId: string; params: Readonly<Record<string, string>> }) {
  const detail = useQuery<{ trajectory: TrajectoryDetail }>(DETAIL_QUERY, { id });
  const live = useSubscription<{ slimmingProgress: Step }>(PROGRESS, { id }, ({ slimmingProgress: step }) =>
    detail.update(({ trajectory }) => ({
      trajectory: trajectory.steps.some((s) => s.index === step.index)
        ? trajectory
        : { ...trajectory, steps: [...trajectory.steps, step].sort((a, b) => a.index - b.index) },
    })),
  );
  const jobs = useQuery<{ jobs: SlimJob[] }>(SLIM_JOBS, { projectId });
  useSubscription<{ jobUpdated: SlimJob & { kind: string } }>(SLIM_JOB_UPDATED, { projectId }, ({ jobUpdated }) => {
    if (jobUpdated.subjectId !== id) return;
    jobs.update((data) => ({ jobs: [jobUpdated, ...data.jobs.filter((j) => j.id !== jobUpdated.id)] }));
    // Picks are recorded as the walk crosses targets; the finished walk has them all.
    if (jobUpdated.state === 'SUCCEEDED') detail.reload();
  });
  const job = jobs.state.status === 'ready' ? jobs.state.data.jobs.find((j) => j.subjectId === id) : undefined;
  // Until the job is known the page claims neither that it is live nor that it ended.
  const walk = job === undefined ? 'unknown' : job.state === 'QUEUED' || job.state === 'RUNNING' ? 'running' : 'ended';
  return (
    <Await
      state={detail.state}
      what="the trajectory"
      ready={({ trajectory }) => {
        const last = trajectory.steps.at(-1);
        const stepIndex = params.step === undefined ? last?.index : Number(params.step);
        const selected = trajectory.steps.find((s) => s.index === stepIndex) ?? last;
        const selectStep = (index: number) => navigate('trajectory', { ...params, trajectory: id, step: String(index) });
        const unitNames = new Map(trajectory.supernet.searchSpace.units.map((u) => [u.index, u.name]));
        const position = selected ? trajectory.steps.indexOf(selected) : 0;
        return (
          <>
            <p class="hint">
              {walk === 'running' ? <LiveBadge error={live} /> : job && <RunState job={job} />} <span class="step-count">{trajectory.steps.length} steps</span> · {trajectory.evaluations}{' '}
              evaluations ({trajectory.cacheHits} cached) · BN {trajectory.bnMode.toLowerCase()}, batch {trajectory.evalBatchSize}, scoring {trajectory.scoring.toLowerCase()}
              {last &&
                ` · ${{ running: 'now at', ended: 'ended at', unknown: 'last step at' }[walk]} ${compact(costOf(trajectory.constraint, last))} ${unitOf(trajectory.constraint)}, ${percent(last.accuracy)}`}
            </p>
            {trajectory.latencyTable && (
              <p class="hint latency-table">Predicted latencies come from the {validationSummary(trajectory.latencyTable.version, trajectory.latencyTable.validation)}.</p>
            )}
            {trajectory.latencyWarning && (
              <p class="hint error latency-warning" role="alert">
                {trajectory.latencyWarning}
              </p>
            )}
            {trajectory.steps.length === 0 ? (
              <Empty>
                <p>
                  {walk === 'ended'
                    ? 'This trajectory has no step: its slimming job ended before it evaluated the widest config.'
                    : 'No step yet: the slimming job has not evaluated the widest config. Steps appear here live.'}
                </p>
              </Empty>
            ) : (
              <>
                <PathChart trajectory={trajectory} selected={selected?.index} onSelect={selectStep} />
                <Picks trajectory={trajectory} onSelect={selectStep} />
                {selected && (
                  <>
                    <label class="picker">
                      <span class="step-title">
                        Step {selected.index}
                        {selected.unitName ? ` (slimmed ${selected.unitName})` : ' (widest)'}
                      </span>
                      <input
                        type="range"
                        aria-label="Step of the greedy path"
                        aria-valuetext={`step ${selected.index} of ${last!.index}${selected.unitName ? `: slimmed ${selected.unitName}` : ': widest'}`}
                        min={0}
                        max={trajectory.steps.length - 1}
                        value={position}
                        onInput={(e) => selectStep(trajectory.steps[Number(e.currentTarget.value)]!.index)}
                      />
                      <span class="hint">arrow keys step one at a time; Home and End jump to the ends</span>
                    </label>
                    <Proposals step={selected} constraint={trajectory.constraint} unitNames={unitNames} />
                    <WidthChart units={trajectory.supernet.searchSpace.units} step={selected} />
                  </>
                )}
              </>
            )}
            <p>
              <a href={routeHref('compare', { project: params.project, space: params.space })}>Compare two candidates layer by layer →</a>
            </p>
          </>
        );
      }}
    />
  );
}

function RunState({ job }: { job: SlimJob }) {
  const said: Partial<Record<JobState, string>> = { SUCCEEDED: 'finished', FAILED: 'failed', CANCELLED: 'cancelled' };
  return (
    <span class={`run-state badge ${job.state.toLowerCase()}`}>
      slimming {said[job.state] ?? job.state.toLowerCase()}
      {job.finishedAt && ` at ${timeOf(job.finishedAt)}`}
    </span>
  );
}

/** The candidates the walk picked, one per target it crossed: the stars on the chart. */
function Picks({ trajectory, onSelect }: { trajectory: TrajectoryDetail; onSelect: (index: number) => void }) {
  if (trajectory.picks.length === 0) return <p class="hint">No candidate yet: one is picked as the walk crosses each target.</p>;
  const unit = unitOf(trajectory.constraint);
  return (
    <ul class="picks">
      {trajectory.picks.map((pick) => (
        <li key={`${pick.target}`}>
          <span class="pick-star" aria-hidden="true">
            ★
          </span>{' '}
          target {compact(pick.target)} {unit}: candidate <code>{pick.candidate.id.slice(0, 8)}</code>, {percent(pick.searchAccuracy)}
          {pick.step === null ? null : (
            <>
              {' '}
              at{' '}
              <button class="link" onClick={() => onSelect(pick.step!)}>
                step {pick.step}
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Every unit the step tried to slim, the screened-out ones included: the greedy choice made visible. */
function Proposals({ step, constraint, unitNames }: { step: Step; constraint: CostConstraint; unitNames: ReadonlyMap<number, string> }) {
  if (step.index === 0) return <p class="hint proposals-none">Step 0 is the widest configuration: nothing was proposed yet.</p>;
  if (step.proposals.length === 0) return <p class="hint proposals-none">This step recorded no proposals.</p>;
  const screened = step.proposals.filter((p) => p.screenedOut).length;
  return (
    <figure class="proposals">
      <figcaption>
        Step {step.index} tried {step.proposals.length} units and slimmed the best-scoring one
        {screened > 0 && `; ${screened} ${screened === 1 ? 'was' : 'were'} screened out on the smaller screening batch and never scored on the full batch`}.
      </figcaption>
      <table class="grid proposals">
        <thead>
          <tr>
            <th>Unit slimmed</th>
            <th class="num">Accuracy</th>
            <th class="num">{constraint === 'PARAMS' ? 'Params' : constraint === 'LATENCY' ? 'Latency (ms)' : 'MACs'} after</th>
            <th class="num">Score</th>
            <th>Screening</th>
          </tr>
        </thead>
        <tbody>
          {step.proposals.map((p) => {
            const chosen = p.unitIndex === step.unitIndex;
            return (
              <tr key={p.unitIndex} class={chosen ? 'chosen' : p.screenedOut ? 'screened-out' : ''}>
                <td>
                  {unitNames.get(p.unitIndex) ?? `unit ${p.unitIndex}`}
                  {chosen && <span class="badge succeeded"> chosen</span>}
                </td>
                <td class="num accuracy">{percent(p.accuracy)}</td>
                <td class="num">{compact(p.cost)}</td>
                <td class="num">{p.score.toFixed(4)}</td>
                <td>{p.screenedOut ? `screened out (screening accuracy ${percent(p.screenAccuracy ?? p.accuracy)})` : p.screenAccuracy === null ? '—' : `passed (${percent(p.screenAccuracy)})`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

function costOf(constraint: CostConstraint, step: SlimmingStep): number {
  return constraint === 'PARAMS' ? step.params : step.macs;
}

function unitOf(constraint: CostConstraint): string {
  return constraint === 'PARAMS' ? 'params' : 'MACs';
}

const CANDIDATES = 'candidates';

function PathChart({ trajectory, selected, onSelect }: { trajectory: TrajectoryDetail; selected?: number; onSelect: (index: number) => void }) {
  const { constraint, steps, picks } = trajectory;
  const marked = picks.filter((p) => p.step !== null && steps.some((s) => s.index === p.step));
  const option = useMemo((): ChartOption => {
    const describe = (step: SlimmingStep) =>
      `step ${step.index}${step.unitName ? `: slimmed ${step.unitName}` : ' (widest)'}<br>${compact(costOf(constraint, step))} ${unitOf(constraint)}, ${percent(step.accuracy)}`;
    return {
      animation: false,
      grid: { left: 70, right: 30, top: 40, bottom: 50 },
      legend: { top: 0, data: ['greedy path', CANDIDATES] },
      tooltip: {
        trigger: 'item',
        formatter: (item: { seriesName: string; dataIndex: number }) => {
          if (item.seriesName !== CANDIDATES) return describe(steps[item.dataIndex]!);
          const pick = marked[item.dataIndex]!;
          return `candidate ${pick.candidate.id.slice(0, 8)} for target ${compact(pick.target)}<br>${describe(steps.find((s) => s.index === pick.step)!)}`;
        },
      },
      xAxis: { type: 'value', name: unitOf(constraint), nameLocation: 'middle', nameGap: 30, inverse: true, scale: true, axisLabel: { formatter: compact } },
      yAxis: { type: 'value', name: 'search accuracy', scale: true, axisLabel: { formatter: (v: number) => percent(v) } },
      series: [
        {
          type: 'line',
          name: 'greedy path',
          itemStyle: { color: '#2563eb' },
          data: steps.map((s) => ({
            value: [costOf(constraint, s), s.accuracy],
            symbolSize: s.index === selected ? 14 : 6,
            itemStyle: s.index === selected ? { color: '#dc2626' } : undefined,
          })),
          markLine: {
            symbol: 'none',
            label: { formatter: (p: { value: number }) => `target ${compact(p.value)}` },
            lineStyle: { type: 'dashed', color: '#64748b' },
            data: trajectory.targets.map((t) => ({ xAxis: t })),
          },
        },
        {
          type: 'scatter',
          name: CANDIDATES,
          symbol: 'diamond',
          symbolSize: 18,
          // Under the path, so the selected step's marker stays visible on a candidate.
          z: 1,
          itemStyle: { color: '#f59e0b', borderColor: '#92400e', borderWidth: 1 },
          label: { show: true, position: 'top', formatter: (item: { dataIndex: number }) => marked[item.dataIndex]!.candidate.id.slice(0, 8) },
          data: marked.map((pick) => {
            const step = steps.find((s) => s.index === pick.step)!;
            return [costOf(constraint, step), step.accuracy];
          }),
        },
      ],
    };
  }, [trajectory, selected]);
  return (
    <Chart
      option={option}
      height={360}
      label={`search accuracy versus cost along the greedy path, ${marked.length} candidate${marked.length === 1 ? '' : 's'} marked`}
      onClick={(event) => onSelect(event.seriesName === CANDIDATES ? marked[event.dataIndex]!.step! : steps[event.dataIndex]!.index)}
    />
  );
}

function WidthChart({ units, step }: { units: ChannelUnit[]; step: SlimmingStep }) {
  const option = useMemo(
    () =>
      unitWidthChart(units, [
        { name: 'widest (step 0)', widths: units.map((u) => u.max), color: '#cbd5e1' },
        { name: `step ${step.index}`, widths: widthsOf(units, step.channels), color: '#2563eb', barGap: '-100%' },
      ]),
    [units, step],
  );
  return <Chart option={option} height={320} label={`per-unit widths at step ${step.index} against the widest config`} />;
}
