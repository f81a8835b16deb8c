/** The thread registration runs in, so reading a large tree never holds up the server's requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { DatasetFilesError } from './dataset-files';
import { encodeManifest } from './manifest';
import { registerFolder } from './manifest-build';
import type { RegistrationRequest, RegistrationMessage } from './registration-thread';

const request = workerData as RegistrationRequest;
const post = (message: RegistrationMessage) => parentPort!.postMessage(message);

registerFolder(request.format, request.base, request.limits, {
  ...request.options,
  onProgress: (phase, done, total) => post({ type: 'progress', phase, done, total }),
}).then(
  ({ shape, manifest, normalization }) => {
    // Encoded here and handed over, not copied: a large tree's manifest would otherwise be cloned
    // and serialized on the server's event loop.
    const bytes = encodeManifest(manifest);
    const result = { shape, manifest: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), normalization, skipped: manifest.skipped.length };
    parentPort!.postMessage({ type: 'done', result } satisfies RegistrationMessage, [bytes.buffer as ArrayBuffer]);
  },
  (error: unknown) => post({ type: 'error', message: (error as Error).message ?? String(error), files: error instanceof DatasetFilesError, code: (error as NodeJS.ErrnoException).code }),
);
