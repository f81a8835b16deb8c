import { useMemo } from 'preact/hooks';
import type { ChannelUnit, CostConstraint, SlimmingStep } from '../api/types';
import { Chart, type ChartOption } from '../components/Chart';
import { Await, Empty, LiveBadge } from '../components/Status';
import { compact, percent } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { navigate, routeHref } from '../route';

const STEP_FIELDS = 'id index unitIndex unitName channels macs params accuracy accuracyDrop';

const LIST_QUERY = `query TrajectoryList($projectId: ID!) {
  supernets(filter: { projectId: $projectId }) { id name searchSpace { name } trajectories { id constraint targets createdAt } }
}`;

const DETAIL_QUERY = `query Trajectory($id: ID!) {
  trajectory(id: $id) {
    id constraint targets bnMode scoring evalBatchSize evaluations cacheHits
    steps { ${STEP_FIELDS} }
    supernet { name searchSpace { units { index name max members layers } } }
  }
}`;

const PROGRESS = `subscription SlimmingProgress($id: ID!) { slimmingProgress(trajectoryId: $id) { ${STEP_FIELDS} } }`;

interface TrajectoryDetail {
  id: string;
  constraint: CostConstraint;
  targets: number[];
  bnMode: string;
  scoring: string;
  evalBatchSize: number;
  evaluations: number;
  cacheHits: number;
  steps: SlimmingStep[];
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
              <TrajectoryDetailView key={chosen.id} id={chosen.id} params={params} />
            </>
          );
        }}
      />
    </section>
  );
}

function TrajectoryDetailView({ id, params }: { id: string; params: Readonly<Record<string, string>> }) {
  const detail = useQuery<{ trajectory: TrajectoryDetail }>(DETAIL_QUERY, { id });
  const live = useSubscription<{ slimmingProgress: SlimmingStep }>(PROGRESS, { id }, ({ slimmingProgress: step }) =>
    detail.update(({ trajectory }) => ({
      trajectory: trajectory.steps.some((s) => s.index === step.index)
        ? trajectory
        : { ...trajectory, steps: [...trajectory.steps, step].sort((a, b) => a.index - b.index) },
    })),
  );
  return (
    <Await
      state={detail.state}
      what="the trajectory"
      ready={({ trajectory }) => {
        const last = trajectory.steps.at(-1);
        const stepIndex = params.step === undefined ? last?.index : Number(params.step);
        const selected = trajectory.steps.find((s) => s.index === stepIndex) ?? last;
        const selectStep = (index: number) => navigate('trajectory', { ...params, trajectory: id, step: String(index) });
        return (
          <>
            <p class="hint">
              <LiveBadge error={live} /> <span class="step-count">{trajectory.steps.length} steps</span> · {trajectory.evaluations} evaluations ({trajectory.cacheHits} cached) · BN{' '}
              {trajectory.bnMode.toLowerCase()}, batch {trajectory.evalBatchSize}, scoring {trajectory.scoring.toLowerCase()}
              {last && ` · now at ${compact(costOf(trajectory.constraint, last))} ${unitOf(trajectory.constraint)}, ${percent(last.accuracy)}`}
            </p>
            {trajectory.steps.length === 0 ? (
              <Empty>
                <p>No step yet: the slimming job has not evaluated the widest config. Steps appear here live.</p>
              </Empty>
            ) : (
              <>
                <PathChart trajectory={trajectory} selected={selected?.index} onSelect={selectStep} />
                {selected && (
                  <>
                    <label class="picker">
                      Step {selected.index}
                      {selected.unitName ? ` (slimmed ${selected.unitName})` : ' (widest)'}
                      <input
                        type="range"
                        min={0}
                        max={trajectory.steps.length - 1}
                        value={trajectory.steps.indexOf(selected)}
                        onInput={(e) => selectStep(trajectory.steps[Number(e.currentTarget.value)]!.index)}
                      />
                    </label>
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

function costOf(constraint: CostConstraint, step: SlimmingStep): number {
  return constraint === 'PARAMS' ? step.params : step.macs;
}

function unitOf(constraint: CostConstraint): string {
  return constraint === 'PARAMS' ? 'params' : 'MACs';
}

function PathChart({ trajectory, selected, onSelect }: { trajectory: TrajectoryDetail; selected?: number; onSelect: (index: number) => void }) {
  const option = useMemo((): ChartOption => {
    const { constraint, steps } = trajectory;
    return {
      animation: false,
      grid: { left: 70, right: 30, top: 30, bottom: 50 },
      tooltip: {
        trigger: 'item',
        formatter: (item: { dataIndex: number }) => {
          const step = steps[item.dataIndex]!;
          return `step ${step.index}${step.unitName ? `: slimmed ${step.unitName}` : ' (widest)'}<br>${compact(costOf(constraint, step))} ${unitOf(constraint)}, ${percent(step.accuracy)}`;
        },
      },
      xAxis: { type: 'value', name: unitOf(constraint), nameLocation: 'middle', nameGap: 30, inverse: true, scale: true, axisLabel: { formatter: compact } },
      yAxis: { type: 'value', name: 'search accuracy', scale: true, axisLabel: { formatter: (v: number) => percent(v) } },
      series: [
        {
          type: 'line',
          name: 'greedy path',
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
      ],
    };
  }, [trajectory, selected]);
  return (
    <Chart
      option={option}
      height={340}
      label="search accuracy versus cost along the greedy path"
      onClick={(event) => onSelect(trajectory.steps[event.dataIndex]!.index)}
    />
  );
}

function WidthChart({ units, step }: { units: ChannelUnit[]; step: SlimmingStep }) {
  const option = useMemo(
    (): ChartOption => ({
      animation: false,
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 30, bottom: 90 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: units.map((u) => u.name), axisLabel: { rotate: 60 } },
      yAxis: { type: 'value', name: 'channels' },
      series: [
        { type: 'bar', name: 'widest (step 0)', data: units.map((u) => u.max), itemStyle: { color: '#cbd5e1' } },
        { type: 'bar', name: `step ${step.index}`, barGap: '-100%', data: units.map((u) => step.channels[u.members[0]!]), itemStyle: { color: '#2563eb' } },
      ],
    }),
    [units, step],
  );
  return <Chart option={option} height={320} label={`per-unit widths at step ${step.index} against the widest config`} />;
}
