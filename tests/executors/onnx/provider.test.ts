import { spawnSync } from 'node:child_process';

/** Chooses providers in a fresh process, where ORT's logger is still unconfigured, and returns what it printed. */
function chooseInFreshProcess(): { stdout: string; stderr: string } {
  const script = `
    const { resolveProvider, describeProvider } = require('./executors/onnx/session');
    (async () => {
      const auto = await resolveProvider('auto');
      const cuda = await resolveProvider('cuda');
      const line = await describeProvider('auto');
      console.log(JSON.stringify({ auto, cuda, line }));
    })();`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe('choosing the ONNX Runtime provider', () => {
  const { stdout, stderr } = chooseInFreshProcess();
  const { auto, cuda, line } = JSON.parse(stdout) as {
    auto: { provider: string; note?: string };
    cuda: { provider: string; note?: string };
    line: string;
  };

  it("probes CUDA without ORT's error log, whether or not it loads", () => {
    expect(stderr).not.toMatch(/onnxruntime|Failed to load/);
  });

  it('auto takes CUDA when it loads and the CPU otherwise, without a note either way', () => {
    expect(auto.note).toBeUndefined();
    expect(auto.provider).toBe(cuda.provider);
  });

  it("explicit cuda notes its fallback; the operator's line names the choice and why", () => {
    if (cuda.provider === 'cpu') {
      expect(cuda.note).toMatch(/^CUDA execution provider unavailable, ran on CPU: \S/);
      expect(line).toMatch(/^ONNX Runtime runs on the CPU \(SLIMLAB_ORT_PROVIDER=auto; CUDA did not load: \S.*\)$/);
    } else {
      expect(cuda.note).toBeUndefined();
      expect(line).toBe('ONNX Runtime runs on CUDA (SLIMLAB_ORT_PROVIDER=auto)');
    }
  });
});
