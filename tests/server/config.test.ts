import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration from the environment', () => {
  it('defaults to SQLite under ./data on port 4000 with an in-process worker', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, dataDir: resolve('data'), embeddedWorker: true, workerConcurrency: 1 });
    expect(config.database).toEqual({ kind: 'sqlite', file: resolve('data', 'slimlab.db') });
  });

  it('listens on loopback in local mode by default, and needs authentication to listen anywhere else', () => {
    expect(loadConfig({})).toMatchObject({ host: '127.0.0.1', auth: false });
    expect(loadConfig({ SLIMLAB_AUTH: 'on' })).toMatchObject({ host: '127.0.0.1', auth: true });
    expect(loadConfig({ SLIMLAB_HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', auth: true });
    expect(loadConfig({ SLIMLAB_HOST: '::1', SLIMLAB_AUTH: 'off' }).auth).toBe(false);
    expect(() => loadConfig({ SLIMLAB_HOST: '0.0.0.0', SLIMLAB_AUTH: 'off' })).toThrow(
      new ConfigError(
        'SLIMLAB_HOST=0.0.0.0 listens beyond this machine, which needs authentication: unset SLIMLAB_AUTH (or set it to on), or set SLIMLAB_HOST=127.0.0.1',
      ),
    );
    expect(() => loadConfig({ SLIMLAB_AUTH: 'yes' })).toThrow(new ConfigError('SLIMLAB_AUTH must be on or off (got "yes")'));
  });

  it('reads PostgreSQL and SQLite urls, the data dir and the port', () => {
    expect(loadConfig({ SLIMLAB_DATABASE_URL: 'postgres://u@h:5432/db' }).database).toEqual({ kind: 'postgresql', url: 'postgres://u@h:5432/db' });
    expect(loadConfig({ SLIMLAB_DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', file: '/tmp/x.db' });
    expect(loadConfig({ SLIMLAB_DATA_DIR: '/srv/slimlab' }).database).toEqual({ kind: 'sqlite', file: '/srv/slimlab/slimlab.db' });
    expect(loadConfig({ SLIMLAB_PORT: '8080' }).port).toBe(8080);
  });

  it('reads the origins allowed to open the WebSocket, and the worker token without echoing it', () => {
    expect(loadConfig({}).allowedOrigins).toEqual([]);
    expect(loadConfig({ SLIMLAB_ALLOWED_ORIGINS: 'http://localhost:5173, https://lab.example' }).allowedOrigins).toEqual(['http://localhost:5173', 'https://lab.example']);
    expect(() => loadConfig({ SLIMLAB_ALLOWED_ORIGINS: 'https://lab.example/app' })).toThrow(
      new ConfigError('SLIMLAB_ALLOWED_ORIGINS must be comma-separated origins like https://host:port, without a path (got "https://lab.example/app")'),
    );
    expect(loadConfig({ SLIMLAB_WORKER_TOKEN: 's'.repeat(32) }).workerToken).toBe('s'.repeat(32));
    expect(() => loadConfig({ SLIMLAB_WORKER_TOKEN: 'short secret' })).toThrow(new ConfigError('SLIMLAB_WORKER_TOKEN must be 16 to 256 printable characters without spaces'));
  });

  it('names the variable and the rule when a value is wrong', () => {
    expect(() => loadConfig({ SLIMLAB_PORT: 'eighty' })).toThrow(new ConfigError('SLIMLAB_PORT must be an integer between 0 and 65535 (got "eighty")'));
    expect(() => loadConfig({ SLIMLAB_DATABASE_URL: 'mysql://x' })).toThrow(/SLIMLAB_DATABASE_URL must start with postgres:\/\//);
    expect(() => loadConfig({ SLIMLAB_WORKER_CONCURRENCY: '0' })).toThrow(/SLIMLAB_WORKER_CONCURRENCY/);
    expect(() => loadConfig({ SLIMLAB_ORT_PROVIDER: 'tpu' })).toThrow('SLIMLAB_ORT_PROVIDER must be one of auto, cuda, cpu (got "tpu")');
  });

  it('reads the dataset roots as colon-separated absolute paths, defaulting to the data dir and /usr/share/datasets', () => {
    expect(loadConfig({ SLIMLAB_DATA_DIR: '/srv/slimlab' }).datasetRoots).toEqual(['/srv/slimlab/datasets', '/usr/share/datasets']);
    expect(loadConfig({ SLIMLAB_DATASET_ROOTS: '/data/a:/data/b/' }).datasetRoots).toEqual(['/data/a', '/data/b']);
    expect(() => loadConfig({ SLIMLAB_DATASET_ROOTS: '/data/a:relative' })).toThrow(new ConfigError('SLIMLAB_DATASET_ROOTS must be colon-separated absolute paths (got "relative")'));
    expect(loadConfig({}).datasetMaxFileMb).toBe(2048);
    expect(() => loadConfig({ SLIMLAB_DATASET_MAX_IMAGE_SIDE: '0' })).toThrow(/SLIMLAB_DATASET_MAX_IMAGE_SIDE must be an integer between 1 and 65535/);
  });

  it('reads the dataset upload limit in MB, 2048 by default', () => {
    expect(loadConfig({}).maxDatasetUploadMb).toBe(2048);
    expect(loadConfig({ SLIMLAB_MAX_DATASET_UPLOAD_MB: '64' }).maxDatasetUploadMb).toBe(64);
    expect(() => loadConfig({ SLIMLAB_MAX_DATASET_UPLOAD_MB: '1.5' })).toThrow(
      new ConfigError('SLIMLAB_MAX_DATASET_UPLOAD_MB must be an integer between 1 and 1048576 (got "1.5")'),
    );
  });
});
