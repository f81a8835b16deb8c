/** The thread registration runs in, so reading a large tree never holds up the server's requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { DatasetFilesError } from './dataset-files';
import { registerFolder } from './manifest-build';
import type { RegistrationRequest, RegistrationMessage } from './registration-thread';

const request = workerData as RegistrationRequest;
const post = (message: RegistrationMessage) => parentPort!.postMessage(message);

registerFolder(request.format, request.base, request.limits, {
  ...request.options,
  onProgress: (phase, done, total) => post({ type: 'progress', phase, done, total }),
}).then(
  (result) => post({ type: 'done', result }),
  (error: unknown) => post({ type: 'error', message: (error as Error).message ?? String(error), files: error instanceof DatasetFilesError, code: (error as NodeJS.ErrnoException).code }),
);
