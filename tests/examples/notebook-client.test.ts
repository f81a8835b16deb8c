import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { defaultChannels, profile } from '../../autoslim';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

const CLIENT = join(__dirname, '..', '..', 'examples', 'notebook_client.py');

/** Runs the client; resolves with its stdout lines once it exits, calling `onLine` as they come. */
function runClient(args: string[], onLine: (line: string) => void = () => undefined): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        onLine(line);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, lines, stderr }));
  });
}

describe('the notebook client (examples/notebook_client.py)', () => {
  let server: TestServer;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((open) => (release = open));
  const options = { inputSize: 28, numClasses: 10 };
  const widths = [1, 0.75, 0.5];

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET'], async (job, ctx) => {
    const { runId } = job.payload as { runId: string };
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.safetensors', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId, artifact, step: 1 });
    return {};
  });
  const slimmer = new ScriptedPlugin(['SLIM'], async (job, ctx) => {
    await gate;
    const { trajectoryId } = job.payload as { trajectoryId: string };
    for (const [index, width] of widths.entries()) {
      const channels = [...defaultChannels('mbv2-fmnist', width, options)];
      const { macs, params } = profile('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, options), options);
      const accuracy = 0.7 + width / 5;
      await ctx.report({
        type: 'slimmingStep',
        trajectoryId,
        step: { index, unitIndex: index || null, unitName: index ? `unit${index}` : null, channels, macs, params, predictedLatencyMs: null, score: accuracy, accuracy, accuracyDrop: 0.9 - accuracy, proposals: [] },
      });
      if (index > 0) await ctx.report({ type: 'candidate', trajectoryId, target: macs, channels, searchAccuracy: accuracy });
    }
    return {};
  }, 'scripted-slim');

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [trainer, slimmer]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('follows a running trajectory live over graphql-transport-ws, then lists the leaderboard', async () => {
    const { projectId, datasetId, space } = await seedProject(server, 'notebook');
    const job = await trainSupernet(server, space.id, datasetId);
    await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: job.id });
      return j.state === 'SUCCEEDED' ? true : undefined;
    });
    const { startSlimming } = await server.gql(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [5e6], evalBatchSize: 32 }) { payload } }`, {
      s: job.payload.supernetId,
    });
    const follow = runClient(['--server', server.url, 'follow', '--trajectory', startSlimming.payload.trajectoryId, '--steps', '3'], (line) => {
      if (line === 'subscribed') release();
    });
    const followed = await follow;
    expect(followed.code).toBe(0);
    const steps = followed.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(steps.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(steps[0].macs).toBe(9105872);

    const board = await runClient(['--server', server.url, 'leaderboard', '--project', projectId]);
    expect(board.code).toBe(0);
    const rows = board.lines.map((line) => JSON.parse(line));
    expect(rows.map((r) => r.source)).toEqual(['AUTOSLIM', 'AUTOSLIM']);
    expect(rows[0].macs).toBeLessThan(rows[1].macs);
  });

  it('says clearly when the server is unreachable or an id is unknown', async () => {
    const unreachable = await runClient(['--server', 'http://127.0.0.1:9', 'leaderboard', '--project', 'x']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the slimlab server at http:\/\/127.0.0.1:9/);
    const unknown = await runClient(['--server', server.url, 'leaderboard', '--project', 'not-an-id']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/slimlab: filter.projectId: must be an id/);
  });
});
