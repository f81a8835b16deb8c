import { startModuleWorker } from '../worker-thread';
import { DatasetFilesError, type FileDatasetFormat } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import type { DatasetNormalization } from './manifest';
import type { RegisteredFolder, RegistrationOptions, RegistrationPhase } from './manifest-build';

/** What registration sends back: the manifest already encoded (its bytes are stored as they are). */
export interface RegisteredFolderBytes {
  readonly shape: RegisteredFolder['shape'];
  readonly manifest: Uint8Array;
  readonly normalization: DatasetNormalization;
  /** Files left out of the manifest (skipCorrupt). */
  readonly skipped: number;
}

export interface RegistrationRequest {
  readonly format: FileDatasetFormat;
  readonly base: string;
  readonly limits: DatasetLimits;
  readonly options: Omit<RegistrationOptions, 'onProgress'>;
}

export type RegistrationMessage =
  | { readonly type: 'progress'; readonly phase: RegistrationPhase; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly result: RegisteredFolderBytes }
  | { readonly type: 'error'; readonly message: string; readonly files: boolean; readonly code?: string };

/**
 * `registerFolder` in a thread of its own: headers, labels and statistics are read and computed
 * there, and only progress and the result cross back. Errors keep their kind: a DatasetFilesError
 * (safe to show) stays one, a file-system error keeps its code.
 */
export function registerFolderInThread(request: RegistrationRequest, onProgress?: RegistrationOptions['onProgress']): Promise<RegisteredFolderBytes> {
  return new Promise((resolve, reject) => {
    const thread = startModuleWorker(__dirname, 'registration-worker', { workerData: request });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void thread.terminate();
    };
    thread.on('message', (message: RegistrationMessage) => {
      if (message.type === 'progress') onProgress?.(message.phase, message.done, message.total);
      else if (message.type === 'done') settle(() => resolve(message.result));
      else {
        const error = message.files ? new DatasetFilesError(message.message) : Object.assign(new Error(message.message), { code: message.code });
        settle(() => reject(error));
      }
    });
    thread.on('error', (error) => settle(() => reject(error)));
    thread.on('exit', (code) => settle(() => reject(new Error(`the registration thread exited (code ${code}) before it answered`))));
  });
}
