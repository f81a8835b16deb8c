import type { TableValidation } from '../api/types';
import { milliseconds } from '../format';

/** The GraphQL selection these components read. */
export const VALIDATION_FIELDS = 'version validation { configs mape within5 within10 kendallTau }';

export function validationSummary(version: number, v: TableValidation): string {
  const share = (f: number) => `${(100 * f).toFixed(0)}%`;
  return (
    `latency table v${version}, validated on ${v.configs} configurations: MAPE ${(100 * v.mape).toFixed(1)}%, ` +
    `${share(v.within5)} within ±5%, ${share(v.within10)} within ±10%, Kendall τ ${v.kendallTau === null ? '—' : v.kendallTau.toFixed(2)}`
  );
}

/** A predicted latency with the validation of the table behind it: its MAPE beside it, the rest in its tooltip. */
export function PredictedLatency({ ms, table }: { ms: number | null; table: { version: number; validation: TableValidation } | null }) {
  if (ms === null || table === null) return <>{milliseconds(ms)}</>;
  return (
    <span class="predicted-latency" title={validationSummary(table.version, table.validation)}>
      {milliseconds(ms)} <span class="hint">±{(100 * table.validation.mape).toFixed(1)}%</span>
    </span>
  );
}
