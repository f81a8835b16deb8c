import { buildGraph, defaultChannels } from '../../../autoslim';
import { fusedBlocks } from '../../../executors/latency/blocks';
import { fitCalibration, gridWidths } from '../../../executors/latency/build-table';
import { summarize } from '../../../executors/latency/stats';
import { interpolate, type BlockEntry } from '../../../executors/latency/table';

describe('latency lookup tables', () => {
  it('fuse blocks as ORT runs them: a project conv without activation takes its residual add', () => {
    const opts = { inputSize: 28, numClasses: 10 };
    const channels = defaultChannels('mbv2-fmnist', 1, opts);
    const graph = buildGraph('mbv2-fmnist', channels, opts);
    const blocks = fusedBlocks(graph);
    const adds = graph.nodes.filter((n) => n.op === 'add');
    expect(adds.length).toBeGreaterThan(0);
    expect(blocks).toHaveLength(graph.nodes.length - adds.length);
    const fused = blocks.find((b) => b.name === 'blocks.2.project')!;
    expect(fused.nodes.map((n) => n.op)).toEqual(['conv', 'add']);
    expect(fused.inputs.map((i) => i.tensor)).toEqual(['blocks.2.dw', 'blocks.1.project']);
    expect(blocks.find((b) => b.name === 'pool')!.outputDims).toHaveLength(2);
  });

  it('interpolate linearly between measured widths and exactly at them', () => {
    // Input unit 0 measured at 8 and 16, output unit 2 at 8 and 24.
    const entry: BlockEntry = { name: 'b', axes: [{ unit: 0, widths: [8, 16] }, { unit: 2, widths: [8, 24] }], latencyMs: [1, 2, 3, 4] };
    expect(interpolate(entry, [8, 99, 8])).toBe(1);
    expect(interpolate(entry, [16, 99, 24])).toBe(4);
    expect(interpolate(entry, [16, 99, 8])).toBe(3);
    expect(interpolate(entry, [12, 99, 16])).toBeCloseTo(2.5, 12);
    expect(interpolate({ name: 'fixed', axes: [], latencyMs: [0.7] }, [8])).toBe(0.7);
  });

  it('grid every width, or N of them with both ends', () => {
    const choices = [8, 16, 24, 32, 40, 48, 56];
    expect(gridWidths(choices, null)).toEqual(choices);
    expect(gridWidths(choices, 3)).toEqual([8, 32, 56]);
    expect(gridWidths(choices, 2)).toEqual([8, 56]);
    expect(gridWidths(choices, 20)).toEqual(choices);
  });

  it('calibrate to an exact linear relation, never to one that predicts no time for the narrowest config', () => {
    const rows = [0.2, 0.5, 0.9].map((x) => ({ blockSumMs: x, measuredMs: 0.05 + 1.2 * x }));
    const fit = fitCalibration(rows, 0.1);
    expect(fit.scale).toBeCloseTo(1.2, 10);
    expect(fit.overheadMs).toBeCloseTo(0.05, 10);
    // This line would cross zero at 0.1: a scale alone fits instead.
    const steep = [0.2, 0.5, 0.9].map((x) => ({ blockSumMs: x, measuredMs: 2 * x - 0.2 }));
    expect(fitCalibration(steep, 0.2)).toEqual({ overheadMs: expect.closeTo(-0.2, 10), scale: expect.closeTo(2, 10) });
    expect(fitCalibration(steep, 0.05)).toEqual({ overheadMs: 0, scale: expect.any(Number) });
    expect(fitCalibration([{ blockSumMs: 0.3, measuredMs: 0.4 }, { blockSumMs: 0.3, measuredMs: 0.4 }], 0.1)).toEqual({ scale: 1, overheadMs: expect.closeTo(0.1, 10) });
  });

  it('summarize timings by median, p10, p90, mean and std', () => {
    const stats = summarize([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(stats.median).toBeCloseTo(5.5, 12);
    expect(stats.p10).toBeCloseTo(1.9, 12);
    expect(stats.p90).toBeCloseTo(9.1, 12);
    expect(stats.mean).toBeCloseTo(5.5, 12);
    expect(stats.std).toBeCloseTo(Math.sqrt(82.5 / 9), 12);
  });
});
