import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { WorkerTransfer } from '../worker';
import type { ServerClient } from './server-client';

export function createWorkerTransfer(_client: ServerClient, _workDir: string, _datasetRoot: string | null): WorkerTransfer {
  return {
    upload: async () => {
      throw new Error('upload not wired yet');
    },
    read: (ref) => readFile(fileURLToPath(ref.uri)),
    dataset: async (spec) => spec.uri,
  };
}
