import type { RankCorrelation } from '../api/types';
import { RunCurves } from '../components/RunCurves';
import { Await, Empty } from '../components/Status';
import { dateOf, timeOf } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { navigate, routeHref } from '../route';
import { BN_MODE_LABEL, progressText, studyProgress, type ProgressOf } from '../study';
import { tauText } from '../trust';

const LIST_QUERY = `query SupernetList($projectId: ID!) {
  supernets(filter: { projectId: $projectId }) { id name searchSpace { name } dataset { name } }
}`;

const DETAIL_QUERY = `query Supernet($id: ID!) {
  supernet(id: $id) {
    id name recipe checkpoint { id } run { id status backend startedAt finishedAt }
    rankingStudies {
      id createdAt complete seeds
      configs { scores { bnMode } retrainedTop1 { n } }
      correlations { bnMode configs kendallTau { ...interval } spearmanRho { ...interval } }
    }
  }
}
fragment interval on Interval { estimate low high n confidence }`;

/** A job of the project ended: the run it trained may be the one shown, whose status changed. */
const JOB_ENDED = `subscription SupernetJobs($projectId: ID!) { jobUpdated(projectId: $projectId) { id state } }`;

const ENDED: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** Run statuses whose curves can still grow. */
const RUNNING: readonly string[] = ['PENDING', 'RUNNING'];

interface SupernetDetail {
  id: string;
  name: string;
  recipe: Record<string, unknown>;
  checkpoint: { id: string } | null;
  run: { id: string; status: string; backend: string | null; startedAt: string | null; finishedAt: string | null };
  rankingStudies: StudySummary[];
}

interface StudySummary {
  id: string;
  createdAt: string;
  complete: boolean;
  seeds: number[];
  configs: ProgressOf[];
  correlations: RankCorrelation[];
}

interface Props {
  readonly projectId: string;
  readonly params: Readonly<Record<string, string>>;
}

export function Supernet({ projectId, params }: Props) {
  const list = useQuery<{ supernets: { id: string; name: string; searchSpace: { name: string }; dataset: { name: string } }[] }>(LIST_QUERY, { projectId });
  return (
    <section class="view supernet">
      <h2>Supernet training</h2>
      <Await
        state={list.state}
        what="supernets"
        ready={({ supernets }) => {
          if (supernets.length === 0) {
            return (
              <Empty>
                <p>No supernet in this project yet.</p>
                <p>Train one with the trainSupernet mutation or `slimlab run pipeline.yaml`.</p>
              </Empty>
            );
          }
          const chosen = supernets.find((s) => s.id === params.supernet) ?? supernets.at(-1)!;
          return (
            <>
              <label class="picker">
                Supernet
                <select value={chosen.id} onChange={(e) => navigate('supernet', { ...params, supernet: e.currentTarget.value })}>
                  {supernets.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} — {s.searchSpace.name} on {s.dataset.name}
                    </option>
                  ))}
                </select>
              </label>
              <SupernetDetailView key={chosen.id} id={chosen.id} projectId={projectId} />
            </>
          );
        }}
      />
    </section>
  );
}

function SupernetDetailView({ id, projectId }: { id: string; projectId: string }) {
  const detail = useQuery<{ supernet: SupernetDetail }>(DETAIL_QUERY, { id });
  useSubscription<{ jobUpdated: { id: string; state: string } }>(JOB_ENDED, { projectId }, ({ jobUpdated }) => {
    if (ENDED.includes(jobUpdated.state)) detail.reload();
  });
  return (
    <Await
      state={detail.state}
      what="the supernet"
      ready={({ supernet }) => (
        <>
          <p class="hint">
            Run <span class="run-status">{supernet.run.status.toLowerCase()}</span> · backend {supernet.run.backend ?? 'not recorded yet'} · started{' '}
            {timeOf(supernet.run.startedAt)}
            {supernet.run.finishedAt && ` · ended ${timeOf(supernet.run.finishedAt)}`} · checkpoint {supernet.checkpoint ? 'saved' : 'none yet'}
          </p>
          <details>
            <summary>Recipe</summary>
            <pre>{JSON.stringify(supernet.recipe, null, 2)}</pre>
          </details>
          <RunCurves key={supernet.run.id} runId={supernet.run.id} running={RUNNING.includes(supernet.run.status)} />
          <RankingStudies studies={supernet.rankingStudies} projectId={projectId} />
        </>
      )}
    />
  );
}

/** How well the supernet ranks configurations: each study opens its ranking view. */
function RankingStudies({ studies, projectId }: { studies: StudySummary[]; projectId: string }) {
  return (
    <section class="ranking-studies">
      <h3>Ranking studies</h3>
      {studies.length === 0 ? (
        <p class="hint">
          None yet. A ranking study scores configurations spread over cost with this supernet and retrains each from scratch, to measure how well the
          supernet's scores predict retrained accuracy (Kendall τ).
        </p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Study</th>
              <th>Started</th>
              <th>Progress</th>
              <th title="Kendall τ between supernet accuracy and retrained top-1, with its 95% bootstrap interval">τ by BN mode</th>
            </tr>
          </thead>
          <tbody>
            {studies.map((study) => (
              <tr key={study.id} data-study={study.id}>
                <td>
                  <a href={routeHref('study', { project: projectId, study: study.id })}>Ranking of {study.configs.length} configs</a>
                </td>
                <td>{dateOf(study.createdAt)}</td>
                <td>{study.complete ? 'complete' : progressText(studyProgress(study.configs, study.seeds), study.seeds.length)}</td>
                <td>
                  {study.correlations.length === 0
                    ? '—'
                    : study.correlations.map((c) => `${BN_MODE_LABEL[c.bnMode]}: ${tauText(c)}`).join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
