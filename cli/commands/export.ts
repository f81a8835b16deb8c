import { writeFile } from 'node:fs/promises';
import type { Api } from '../api';
import { CliError, usageError } from '../errors';
import type { Io } from '../io';
import { waitForJobs } from '../jobs';

export interface ExportRequest {
  readonly candidateId: string;
  readonly file: string;
  readonly runId?: string;
  readonly supernetId?: string;
  readonly batchNorm: 'FOLDED' | 'RUNNING';
  readonly calibrationImages?: number;
}

/** Reads the export command's options; each error names its option. */
export function exportRequest(
  candidateId: string,
  options: { onnx?: string; run?: string; supernet?: string; bn?: string; 'calibration-images'?: string },
): ExportRequest {
  if (options.onnx === undefined || options.onnx === '') throw usageError('export needs --onnx <file>');
  const batchNorm = (options.bn ?? 'folded').toUpperCase();
  if (batchNorm !== 'FOLDED' && batchNorm !== 'RUNNING') throw usageError(`--bn must be folded or running (got "${options.bn}")`);
  const raw = options['calibration-images'];
  const calibrationImages = raw === undefined ? undefined : Number(raw);
  if (calibrationImages !== undefined && (!Number.isInteger(calibrationImages) || calibrationImages < 2)) {
    throw usageError(`--calibration-images must be an integer of at least 2 (got "${raw}")`);
  }
  return { candidateId, file: options.onnx, runId: options.run, supernetId: options.supernet, batchNorm, calibrationImages };
}

interface ExportJob {
  id: string;
  projectId: string;
}

interface ExportResult {
  artifact: { id: string };
  fileName: string;
  macs: number;
  params: number;
  testTop1: number;
  testImages: number;
  calibrationImages: number;
  weights: string;
}

/**
 * Queues an EXPORT job on the server, follows it with a progress bar, then downloads the ONNX
 * file it produced to `request.file`.
 */
export async function exportCandidate(api: Api, io: Io, request: ExportRequest): Promise<void> {
  const { exportCandidate: job } = await api.request<{ exportCandidate: ExportJob }>(
    `mutation($input: ExportCandidateInput!) { exportCandidate(input: $input) { id projectId } }`,
    {
      input: {
        candidateId: request.candidateId,
        runId: request.runId,
        supernetId: request.supernetId,
        batchNorm: request.batchNorm,
        ...(request.calibrationImages === undefined ? {} : { calibrationImages: request.calibrationImages }),
      },
    },
  );
  await waitForJobs(api, io, job.projectId, [job.id], 'export');
  const { job: done } = await api.request<{ job: { result: ExportResult } }>(`query($id: ID!) { job(id: $id) { result } }`, { id: job.id });
  const { artifact } = await api.request<{ artifact: { downloadUrl: string; bytes: number; sha256: string } }>(
    `query($id: ID!) { artifact(id: $id) { downloadUrl bytes sha256 } }`,
    { id: done.result.artifact.id },
  );
  const bytes = await api.download(artifact.downloadUrl);
  try {
    await writeFile(request.file, bytes);
  } catch (error) {
    throw new CliError(`cannot write ${request.file}: ${(error as Error).message}`);
  }
  const r = done.result;
  io.out(
    `wrote ${request.file} (${bytes.length} bytes, sha256 ${artifact.sha256.slice(0, 12)}): ${r.macs} MACs, ${r.params} params, ` +
      `test top-1 ${(100 * r.testTop1).toFixed(2)}% on ${r.testImages} images; ${r.weights} weights, BN recalibrated on ${r.calibrationImages} training images\n` +
      `input: NCHW float32 pixels in [0, 1] (the graph normalizes them); output: logits\n`,
  );
}
