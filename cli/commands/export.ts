import type { Api } from '../api';
import { CliError } from '../errors';

/**
 * The GraphQL API has no export operation yet (the exporter exists in executors/onnx but no job
 * serves it), so this confirms the candidate exists and then says plainly that it cannot export.
 */
export async function exportCandidate(api: Api, candidateId: string): Promise<never> {
  const { candidate } = await api.request<{ candidate: { configHash: string } }>(`query($id: ID!) { candidate(id: $id) { configHash } }`, {
    id: candidateId,
  });
  throw new CliError(
    `ONNX export of candidate ${candidate.configHash.slice(0, 10)} is not available yet: the server's API has no export operation`,
  );
}
