import type { Api } from '../api';
import { CliError } from '../errors';

/**
 * The GraphQL API has no export operation yet (it comes with the ONNX evaluation executor), so this
 * confirms the candidate exists and then says plainly that the export cannot be made.
 */
export async function exportCandidate(api: Api, candidateId: string): Promise<never> {
  const { candidate } = await api.request<{ candidate: { configHash: string } }>(`query($id: ID!) { candidate(id: $id) { configHash } }`, {
    id: candidateId,
  });
  throw new CliError(
    `ONNX export of candidate ${candidate.configHash.slice(0, 10)} is not available until the evaluation executor lands: the server's API has no export operation yet`,
  );
}
