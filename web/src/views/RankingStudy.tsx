import { useMemo } from 'preact/hooks';
import type { BnMode, Job, RankCorrelation, RankingStudyConfig, StudyConfigOrigin } from '../api/types';
import { Chart, errorBarSeries, type ChartOption } from '../components/Chart';
import { Await, Empty, LiveBadge } from '../components/Status';
import { intervalBars } from '../errorBars';
import { compact, dateOf, percent, shortHash } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { routeHref } from '../route';
import { BN_MODE_LABEL, ORIGIN_LABEL, progressText, rankingPoints, scoredModes, studyProgress, type RankingPoint } from '../study';
import { accuracyInterval, correlationTitle } from '../trust';

const STUDY_QUERY = `query RankingStudy($id: ID!) {
  rankingStudy(id: $id) {
    id seeds createdAt complete
    supernet { id name }
    evaluationJob { id state progress progressMessage }
    jobs { id }
    configs { candidate { id configHash } origin macs params scores { bnMode accuracy loss } retrainedTop1 { ...interval } }
    correlations { bnMode configs kendallTau { ...interval } spearmanRho { ...interval } }
  }
}
fragment interval on Interval { estimate low high n confidence }`;

const JOB_UPDATED = `subscription StudyJobs($projectId: ID!) { jobUpdated(projectId: $projectId) { id state progress progressMessage } }`;

type EvaluationJob = Pick<Job, 'id' | 'state' | 'progress' | 'progressMessage'>;

interface StudyDetail {
  id: string;
  seeds: number[];
  createdAt: string;
  complete: boolean;
  supernet: { id: string; name: string };
  evaluationJob: EvaluationJob;
  /** Every job the study waits on: its evaluation and each retraining. */
  jobs: { id: string }[];
  configs: RankingStudyConfig[];
  correlations: RankCorrelation[];
}

const MARKS: Record<StudyConfigOrigin, { symbol: string; color: string }> = {
  SAMPLED: { symbol: 'circle', color: '#64748b' },
  UNIFORM: { symbol: 'triangle', color: '#ea580c' },
  AUTOSLIM: { symbol: 'diamond', color: '#2563eb' },
};

const SETTLED: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

interface Props {
  readonly projectId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function RankingStudy({ projectId, params }: Props) {
  return (
    <section class="view ranking-study">
      <h2>Ranking study</h2>
      {params.study ? (
        <StudyView key={params.study} id={params.study} projectId={projectId} />
      ) : (
        <Empty>
          <p>No ranking study chosen. Open one from its supernet's page.</p>
        </Empty>
      )}
    </section>
  );
}

function StudyView({ id, projectId }: { id: string; projectId: string }) {
  const study = useQuery<{ rankingStudy: StudyDetail }>(STUDY_QUERY, { id });
  // Retrainings and the evaluation finish one by one: each of the study's settled jobs may add scores or seeds.
  const live = useSubscription<{ jobUpdated: EvaluationJob }>(JOB_UPDATED, { projectId }, ({ jobUpdated: job }) => {
    if (study.state.status !== 'ready' || !study.state.data.rankingStudy.jobs.some((j) => j.id === job.id)) return;
    if (SETTLED.includes(job.state)) return study.reload();
    study.update(({ rankingStudy }) => ({
      rankingStudy: rankingStudy.evaluationJob.id === job.id ? { ...rankingStudy, evaluationJob: job } : rankingStudy,
    }));
  });
  return (
    <Await
      state={study.state}
      what="the ranking study"
      ready={({ rankingStudy }) => <StudyBody study={rankingStudy} projectId={projectId} live={live} />}
    />
  );
}

function StudyBody({ study, projectId, live }: { study: StudyDetail; projectId: string; live: string | null }) {
  const progress = studyProgress(study.configs, study.seeds);
  const modes = scoredModes(study.configs);
  const evaluation = study.evaluationJob;
  return (
    <>
      <p class="hint">
        Supernet <a href={routeHref('supernet', { project: projectId, supernet: study.supernet.id })}>{study.supernet.name}</a> · started{' '}
        {dateOf(study.createdAt)} · seeds {study.seeds.join(', ')} · {study.complete ? <span class="study-state">complete</span> : <LiveBadge error={live} />}
      </p>
      <p class="study-progress">
        <progress max={Math.max(1, progress.configs)} value={progress.allSeeds} />
        <span class="progress-text">{progressText(progress, study.seeds.length)}</span>
        {evaluation.state !== 'SUCCEEDED' && (
          <span class="hint">
            {' '}
            · supernet scoring {evaluation.state.toLowerCase()}
            {evaluation.state === 'RUNNING' && ` ${Math.round(evaluation.progress * 100)}%${evaluation.progressMessage ? ` (${evaluation.progressMessage})` : ''}`}
          </span>
        )}
      </p>
      <p class="hint">
        Each point is a configuration: across, its accuracy with the supernet's inherited weights on the search hold-out; up, its test top-1
        retrained from scratch, with a bar over the 95% t-interval of its seeds. A supernet that ranks well puts the points on a rising line;
        τ (Kendall) and ρ (Spearman) measure how well, from −1 to 1, with bootstrap intervals over the configurations.
      </p>
      {modes.length === 0 ? (
        <Empty>
          <p>The supernet has not scored any configuration yet. The charts appear once the evaluation job reports.</p>
        </Empty>
      ) : (
        <div class="ranking-charts">
          {modes.map((mode) => (
            <RankingChart key={mode} mode={mode} configs={study.configs} correlation={study.correlations.find((c) => c.bnMode === mode) ?? null} />
          ))}
        </div>
      )}
      <ConfigTable configs={study.configs} modes={modes} />
    </>
  );
}

function RankingChart({ mode, configs, correlation }: { mode: BnMode; configs: readonly RankingStudyConfig[]; correlation: RankCorrelation | null }) {
  const points = useMemo(() => rankingPoints(configs, mode), [configs, mode]);
  const bars = useMemo(() => intervalBars(points, (p) => p.score, (p) => p.top1), [points]);
  const title = correlationTitle(correlation ?? { bnMode: mode, configs: 0, kendallTau: null, spearmanRho: null });
  const option = useMemo((): ChartOption => {
    const origins = Object.keys(MARKS) as StudyConfigOrigin[];
    const ofOrigin = (origin: StudyConfigOrigin) => points.filter((p) => p.origin === origin);
    return {
      animation: false,
      title: { text: BN_MODE_LABEL[mode], subtext: title, left: 'center', textStyle: { fontSize: 14 }, subtextStyle: { fontSize: 12, color: '#334155' } },
      legend: { bottom: 0 },
      grid: { left: 70, right: 30, top: 62, bottom: 70 },
      tooltip: {
        trigger: 'item',
        formatter: (item: { data: { point: RankingPoint } }) => {
          const { point } = item.data;
          return `${ORIGIN_LABEL[point.origin]} ${shortHash(point.configHash)} · ${compact(point.macs)} MACs<br>supernet ${percent(point.score)}<br>retrained ${accuracyInterval(point.top1)}`;
        },
      },
      xAxis: { type: 'value', name: 'supernet accuracy (hold-out)', nameLocation: 'middle', nameGap: 28, scale: true, axisLabel: { formatter: (v: number) => percent(v) } },
      yAxis: { type: 'value', name: 'retrained top-1', scale: true, axisLabel: { formatter: (v: number) => percent(v) } },
      series: [
        ...origins.map((origin) => ({
          type: 'scatter',
          name: ORIGIN_LABEL[origin],
          symbol: MARKS[origin].symbol,
          symbolSize: 10,
          itemStyle: { color: MARKS[origin].color },
          data: ofOrigin(origin).map((point) => ({ value: [point.score, point.top1.estimate], point })),
        })),
        ...origins.map((origin) =>
          errorBarSeries({
            name: ORIGIN_LABEL[origin],
            color: MARKS[origin].color,
            bars: intervalBars(ofOrigin(origin), (p) => p.score, (p) => p.top1),
          }),
        ),
      ],
    };
  }, [points, mode, title]);
  return (
    <figure class="ranking" data-bn-mode={mode}>
      <Chart
        option={option}
        height={420}
        label={`retrained top-1 versus supernet accuracy, ${BN_MODE_LABEL[mode]}: ${points.length} configs, ${bars.length} with error bars over seeds`}
      />
      <figcaption>
        {BN_MODE_LABEL[mode]}: <span class="correlation">{title}</span>
      </figcaption>
    </figure>
  );
}

function ConfigTable({ configs, modes }: { configs: readonly RankingStudyConfig[]; modes: readonly BnMode[] }) {
  const sorted = useMemo(() => [...configs].sort((a, b) => a.macs - b.macs), [configs]);
  const scoreOf = (config: RankingStudyConfig, mode: BnMode) => config.scores.find((s) => s.bnMode === mode)?.accuracy ?? null;
  return (
    <table class="grid study-configs">
      <thead>
        <tr>
          <th>Config</th>
          <th>Origin</th>
          <th class="num">MACs</th>
          <th class="num">Params</th>
          {modes.map((mode) => (
            <th key={mode} class="num" title="Accuracy with the supernet's inherited weights on the search hold-out">
              Supernet, {BN_MODE_LABEL[mode]}
            </th>
          ))}
          <th class="num" title="Test top-1 retrained from scratch: mean over seeds ± half its 95% t-interval">
            Retrained top-1
          </th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((config) => (
          <tr key={config.candidate.id} data-candidate={config.candidate.id}>
            <td class="mono" title={config.candidate.configHash}>
              {shortHash(config.candidate.configHash)}
            </td>
            <td>{ORIGIN_LABEL[config.origin]}</td>
            <td class="num">{compact(config.macs)}</td>
            <td class="num">{compact(config.params)}</td>
            {modes.map((mode) => (
              <td key={mode} class="num">
                {percent(scoreOf(config, mode))}
              </td>
            ))}
            <td class="num">{config.retrainedTop1 ? accuracyInterval(config.retrainedTop1) : 'not yet'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

