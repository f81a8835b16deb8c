import { writeFile } from 'node:fs/promises';
import type { Api } from '../api';
import { CliError, usageError } from '../errors';
import type { Io } from '../io';
import { waitForJobs } from '../jobs';
import { shortId } from '../table';
import { humanCount } from '../../autoslim';

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
  if (request.runId === undefined && request.supernetId === undefined) await expectOwnSupernet(api, request.candidateId);
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
    `wrote ${request.file} (${bytes.length} bytes, sha256 ${artifact.sha256.slice(0, 12)}): ${humanCount(r.macs)} MACs, ${humanCount(r.params)} params, ` +
      `test top-1 ${(100 * r.testTop1).toFixed(2)}% on ${r.testImages} images; ${r.weights} weights, BN recalibrated on ${r.calibrationImages} training images\n` +
      `input: NCHW float32 pixels in [0, 1] (the graph normalizes them); output: logits\n`,
  );
}

interface Unexported {
  id: string;
  source: string;
  trajectory: { id: string } | null;
  searchSpace: { id: string; name: string };
}

/**
 * A candidate found by a trajectory takes its weights from that trajectory's supernet; a uniform
 * or imported one has none of its own, so the user must choose: this lists the supernets that fit.
 */
async function expectOwnSupernet(api: Api, candidateId: string): Promise<void> {
  const { candidate } = await api.request<{ candidate: Unexported }>(
    `query($id: ID!) { candidate(id: $id) { id source trajectory { id } searchSpace { id name } } }`,
    { id: candidateId },
  );
  if (candidate.trajectory) return;
  const { supernets } = await api.request<{ supernets: { id: string; name: string; dataset: { name: string }; checkpoint: { id: string } | null }[] }>(
    `query($s: ID!) { supernets(filter: { searchSpaceId: $s }) { id name dataset { name } checkpoint { id } } }`,
    { s: candidate.searchSpace.id },
  );
  const what = `candidate ${shortId(candidate.id)} is a ${candidate.source.toLowerCase()} candidate: it has no supernet of its own`;
  const space = `search space "${candidate.searchSpace.name}"`;
  if (supernets.length === 0) {
    throw usageError(`${what}, and ${space} has no supernet yet; train one, or export a retraining of it with --run <retrain run id>`);
  }
  const choices = supernets.map((s) => `  ${shortId(s.id)}  ${s.name} (dataset ${s.dataset.name}${s.checkpoint ? '' : ', no checkpoint yet'})`);
  throw usageError(`${what}; pass --supernet <id> with one of the supernets of ${space}:\n${choices.join('\n')}\nor export a retraining of it with --run <retrain run id>`);
}
