/** The answer of a search, budget by budget: each AutoSlim pick next to the uniform width it must beat. */
import type { BaselineComparison, CostConstraint, Interval } from '../api/types';
import { Await } from '../components/Status';
import { compact, shortId } from '../format';
import { useQuery, useSubscription } from '../hooks';
import { accuracyInterval, differenceInterval, VERDICT_LABEL, verdictExplanation, widthLabel } from '../trust';

/** More picks than a summary can show: the leaderboard below lists them all. */
const MAX_PICKS = 100;

const QUERY = `query BudgetResults($spaceId: ID!, $first: Int!) {
  candidates(filter: { searchSpaceId: $spaceId, source: AUTOSLIM }, first: $first, orderBy: { field: MACS, direction: ASC }) {
    edges { node { id macs target trajectory { constraint } retrainedTop1 { ...interval }
      comparison { budget verdict difference { ...interval } baseline { id configHash macs widthMultiplier retrainedTop1 { ...interval } } } } }
  }
}
fragment interval on Interval { estimate low high n confidence }`;

interface Pick {
  id: string;
  macs: number;
  target: number | null;
  trajectory: { constraint: CostConstraint } | null;
  retrainedTop1: Interval | null;
  comparison: (BaselineComparison & { baseline: { retrainedTop1: Interval | null } }) | null;
}

const UNIT: Record<CostConstraint, string> = { MACS: 'MACs', PARAMS: 'params', LATENCY: 'ms' };

function budgetText(constraint: CostConstraint, budget: number): string {
  return constraint === 'LATENCY' ? `≤ ${budget} ms latency` : `≤ ${compact(budget)} ${UNIT[constraint]}`;
}

const JOB_DONE = `subscription BudgetJobs($projectId: ID!) { jobUpdated(projectId: $projectId) { id state } }`;

export function BudgetResults({ projectId, spaceId }: { projectId: string; spaceId: string }) {
  const picks = useQuery<{ candidates: { edges: { node: Pick }[] } }>(QUERY, { spaceId, first: MAX_PICKS });
  // A finished retraining changes the figures; the old summary stays on screen while they reload.
  useSubscription<{ jobUpdated: { id: string; state: string } }>(JOB_DONE, { projectId }, ({ jobUpdated }) => {
    if (jobUpdated.state === 'SUCCEEDED') picks.reload();
  });
  return (
    <Await
      state={picks.state}
      what="results by budget"
      ready={({ candidates }) => {
        const rows = candidates.edges
          .map((e) => e.node)
          .filter((p) => p.trajectory && (p.comparison?.budget ?? p.target) != null)
          .sort((a, b) => a.trajectory!.constraint.localeCompare(b.trajectory!.constraint) || (a.comparison?.budget ?? a.target)! - (b.comparison?.budget ?? b.target)!);
        if (rows.length === 0) return <></>;
        return (
          <section class="budget-results">
            <h3>Results by target budget</h3>
            <p class="hint">
              Each AutoSlim pick against the widest uniform width within the same budget; top-1 on the test split after retraining from scratch, mean over seeds ±
              half its 95% t-interval.
            </p>
            <table class="grid budgets">
              <thead>
                <tr>
                  <th>Budget</th>
                  <th>AutoSlim</th>
                  <th class="num">Retrained top-1</th>
                  <th>Uniform baseline</th>
                  <th class="num">Retrained top-1</th>
                  <th>Difference</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((pick) => {
                  const { comparison } = pick;
                  return (
                    <tr key={pick.id} data-budget-candidate={pick.id}>
                      <td>{budgetText(pick.trajectory!.constraint, (comparison?.budget ?? pick.target)!)}</td>
                      <td>
                        <code>{shortId(pick.id)}</code> · {compact(pick.macs)} MACs
                      </td>
                      <td class="num">{accuracyInterval(pick.retrainedTop1)}</td>
                      <td>
                        {comparison ? (
                          <>
                            <code>{shortId(comparison.baseline.id)}</code> · {widthLabel(comparison.baseline.widthMultiplier)} · {compact(comparison.baseline.macs)} MACs
                          </>
                        ) : (
                          <span class="hint">no uniform width within this budget</span>
                        )}
                      </td>
                      <td class="num">{comparison ? accuracyInterval(comparison.baseline.retrainedTop1) : '—'}</td>
                      <td class="comparison" title={comparison ? verdictExplanation(comparison) : undefined}>
                        {comparison ? (
                          <>
                            <span class={`badge verdict ${comparison.verdict.toLowerCase()}`}>{VERDICT_LABEL[comparison.verdict]}</span>{' '}
                            {comparison.difference ? differenceInterval(comparison.difference) : 'no shared seed'}
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        );
      }}
    />
  );
}
