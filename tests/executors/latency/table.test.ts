import { buildGraph, defaultChannels, unitWidthsOf } from '../../../autoslim';
import type { GraphNode, NetworkGraph } from '../../../autoslim/graph';
import { accuracy } from '../../../executors/latency/accuracy';
import { fusedBlocks, isolatedConversions, layoutConversions } from '../../../executors/latency/blocks';
import { effectiveScale, gridWidths, spreadConfigs, unsettled } from '../../../executors/latency/build-table';
import { blockLevelFigures, joined } from '../../../executors/latency/error-sources';
import { BLOCK_KINDS, blockKind, fitAt, fitLatencyModel, weightedLeastSquares } from '../../../executors/latency/fit';
import { summarize } from '../../../executors/latency/stats';
import { interpolate, type BlockEntry } from '../../../executors/latency/table';
import { Rng } from '../../../executors/rng';
import { resolveSearchSpace } from '../../../executors/search-space';

const OPTS = { inputSize: 28, numClasses: 10 };
/** Features: summed block latency of NCHWc pointwise, depthwise, conv and other blocks (no NCHW ones), and conversions. */
const sums = (pointwise: number, depthwise: number, conv = 0, other = 0, layoutMelems = 0, isolatedMelems = 0) => ({
  kindSumsMs: BLOCK_KINDS.map((kind) => ({ pointwise, depthwise, conv, other })[kind as 'pointwise'] ?? 0),
  layoutMelems,
  isolatedMelems,
});
/** A 1×1 conv of a hand-built graph. */
const conv = (name: string, input: string, inChannels: number, outChannels: number, size: number): GraphNode => ({
  name,
  op: 'conv',
  inputs: [input],
  inShape: { channels: inChannels, height: size, width: size },
  outShape: { channels: outChannels, height: size, width: size },
  inChannels,
  outChannels,
  kernel: 1,
  stride: 1,
  padding: 0,
  groups: 1,
  batchNorm: true,
  activation: 'relu',
});
/** Calibration models as [pointwise ms, depthwise ms, millions of values converted], the conversions not in step with the blocks. */
const CONVERTING = [
  [0.1, 0.05, 0],
  [0.3, 0.1, 0.2],
  [0.2, 0.2, 0.05],
  [0.5, 0.3, 0.4],
  [0.4, 0.3, 0.1],
  [0.7, 0.4, 0.3],
];
const POINTWISE = BLOCK_KINDS.indexOf('pointwise');
const DEPTHWISE = BLOCK_KINDS.indexOf('depthwise');

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

  it('grid every width, or N of each kind (multiples of 16 and the others) with both ends', () => {
    const choices = [8, 16, 24, 32, 40, 48, 56];
    expect(gridWidths(choices, null)).toEqual(choices);
    // 16, 32, 48 are every multiple of 16; 3 of 8, 24, 40, 56 spread by index are 8, 40, 56.
    expect(gridWidths(choices, 3)).toEqual([8, 16, 32, 40, 48, 56]);
    expect(gridWidths(choices, 2)).toEqual([8, 16, 48, 56]);
    expect(gridWidths(choices, 20)).toEqual(choices);
    expect(() => gridWidths(choices, 1)).toThrow(/at least 2 widths/);
  });

  it('count the values converted where a network changes between the NCHWc and the plain layout', () => {
    const graph: NetworkGraph = {
      architecture: 'test',
      input: { channels: 3, height: 4, width: 4 },
      // a is blocked (the image's 3 channels do not count), b and c are not (24 channels), d is.
      nodes: [conv('a', 'input', 3, 16, 4), conv('b', 'a', 16, 24, 4), conv('c', 'b', 24, 32, 2), conv('d', 'c', 32, 32, 2)],
    };
    // a → b converts 16 × 4 × 4, c → d converts 32 × 2 × 2.
    expect(layoutConversions(graph)).toBe(256 + 128);
  });

  it('interpolate among widths of the same kind: multiples of 16 run in another layout than the rest', () => {
    const entry: BlockEntry = { name: 'b', axes: [{ unit: 0, widths: [8, 16, 40, 48], alignment: 16 }], latencyMs: [1, 1, 5, 2] };
    // 24 lies between 8 and 40: 1 + (16 / 32) × 4.
    expect(interpolate(entry, [24])).toBeCloseTo(3, 12);
    // 32 lies between 16 and 48: 1 + (16 / 32) × 1, not between 16 and 40 as a plain grid would have it.
    expect(interpolate(entry, [32])).toBeCloseTo(1.5, 12);
    expect(interpolate({ ...entry, axes: [{ unit: 0, widths: [8, 16, 40, 48] }] }, [32])).toBeCloseTo(1 + (16 / 24) * 4, 12);
    // Beyond the last of its kind, that one stands for it.
    expect(interpolate(entry, [56])).toBe(5);
    expect(interpolate(entry, [64])).toBe(2);
  });

  it('solve weighted least squares exactly, and refuse a singular system', () => {
    // y = 2 + 3x through four points; the weights do not matter for an exact fit.
    const design = [0, 1, 2, 4].map((x) => [1, x]);
    expect(weightedLeastSquares(design, [2, 5, 8, 14], [1, 4, 0.5, 2])).toEqual([expect.closeTo(2, 10), expect.closeTo(3, 10)]);
    // A constant fit to 2 (weight 1) and 3 (weight 3): their weighted mean.
    expect(weightedLeastSquares([[1], [1]], [2, 3], [1, 3])).toEqual([expect.closeTo(2.75, 10)]);
    expect(weightedLeastSquares([[1, 2], [2, 4]], [1, 2], [1, 1])).toBeNull();
  });

  it('sort blocks into kinds by their first kernel and the layout it runs in', () => {
    // At 1.0x block 2 reads and writes 24 channels (plain NCHW) and expands to 144 (NCHWc); the stem writes 16.
    const blocks = fusedBlocks(buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1, OPTS), OPTS));
    const kindOf = (name: string) => blockKind(blocks.find((b) => b.name === name)!.nodes);
    const node = (name: string) => blocks.find((b) => b.name === name)!.nodes[0] as { inChannels: number; outChannels: number };
    expect([node('blocks.2.expand').inChannels, node('blocks.2.expand').outChannels]).toEqual([24, 144]);
    expect(kindOf('blocks.2.expand')).toBe('pointwise/nchw');
    expect(kindOf('blocks.2.dw')).toBe('depthwise');
    expect(kindOf('blocks.2.project')).toBe('pointwise/nchw');
    expect(kindOf('pool')).toBe('other');
    expect(kindOf(blocks[0].name)).toBe('conv');
  });

  it('fit one scale and an intercept to an exact linear relation of the summed blocks', () => {
    const rows = [0.2, 0.5, 0.9].map((x) => ({ ...sums(x / 2, x / 2), measuredMs: 0.05 + 1.2 * x }));
    const fit = fitAt(rows, Infinity);
    expect(fit.interceptMs).toBeCloseTo(0.05, 10);
    expect(fit.coefficients).toEqual(BLOCK_KINDS.map(() => expect.closeTo(1.2, 10)));
  });

  it('fit a coefficient per kind where the kinds differ, and pick it by leave-one-out error', () => {
    // Measured = 0.01 + 1.0 × pointwise + 0.5 × depthwise: no common scale fits this.
    const points = [
      [0.1, 0.1],
      [0.3, 0.1],
      [0.2, 0.4],
      [0.5, 0.3],
      [0.4, 0.6],
      [0.7, 0.2],
    ];
    const rows = points.map(([p, d]) => ({ ...sums(p, d), measuredMs: 0.01 + p + 0.5 * d }));
    const model = fitLatencyModel(rows, sums(0.05, 0.05));
    expect(model.ridge).toBe(1e-4);
    expect(model.looMape).toBeLessThan(0.01);
    expect(model.interceptMs).toBeCloseTo(0.01, 2);
    expect(model.coefficients[POINTWISE]).toBeCloseTo(1, 1);
    expect(model.coefficients[DEPTHWISE]).toBeCloseTo(0.5, 1);
    // Kinds no calibration model has keep the common scale.
    expect(model.coefficients[BLOCK_KINDS.indexOf('conv/nchw')]).toBe(fitAt(rows, Infinity).coefficients[0]);
    // The common scale alone leaves a larger leave-one-out error.
    const looCommon = rows.map((r, i) => {
      const rest = fitAt(rows.filter((_, j) => j !== i), Infinity);
      return Math.abs((rest.interceptMs + rest.coefficients[0] * (r.kindSumsMs[POINTWISE] + r.kindSumsMs[DEPTHWISE])) / r.measuredMs - 1);
    });
    expect(looCommon.reduce((s, e) => s + e, 0) / rows.length).toBeGreaterThan(10 * model.looMape);
  });

  it('fit the cost of layout conversions when the models that convert more take longer than their blocks say', () => {
    // Measured = 0.02 + 1.1 × blocks + 0.8 ms per million values converted.
    const rows = CONVERTING.map(([p, d, l]) => ({ ...sums(p, d, 0, 0, l), measuredMs: 0.02 + 1.1 * (p + d) + 0.8 * l }));
    const exact = fitAt(rows, Infinity, { layout: true, isolated: false });
    expect(exact.interceptMs).toBeCloseTo(0.02, 10);
    expect(exact.coefficients).toEqual(BLOCK_KINDS.map(() => expect.closeTo(1.1, 10)));
    expect(exact.layoutMsPerMelem).toBeCloseTo(0.8, 10);
    const model = fitLatencyModel(rows, sums(0.05, 0.05));
    expect(model.looMape).toBeLessThan(1e-6);
    expect(model.layoutMsPerMelem).toBeCloseTo(0.8, 3);
    expect(fitAt(rows, Infinity).layoutMsPerMelem).toBe(0);
  });

  it('take off what blocks timed alone paid for conversions the network does not make, never add it', () => {
    // Measured = 0.03 + 0.9 × blocks − 0.3 ms per million values the blocks converted alone.
    const rows = CONVERTING.map(([p, d, i]) => ({ ...sums(p, d, 0, 0, 0, i), measuredMs: 0.03 + 0.9 * (p + d) - 0.3 * i }));
    const model = fitLatencyModel(rows, sums(0.05, 0.05));
    expect(model.looMape).toBeLessThan(1e-6);
    expect(model.isolatedMsPerMelem).toBeCloseTo(-0.3, 3);
    expect(model.layoutMsPerMelem).toBe(0);
    // Models that converted more taking longer is no conversion the network saved: the term stays out.
    const longer = CONVERTING.map(([p, d, i]) => ({ ...sums(p, d, 0, 0, 0, i), measuredMs: 0.03 + 0.9 * (p + d) + 0.3 * i }));
    expect(fitLatencyModel(longer, sums(0.05, 0.05)).isolatedMsPerMelem).toBe(0);
  });

  it('count what blocks timed alone convert: outputs whose channels are not multiples of 16, and such inputs wider than 16', () => {
    const graph: NetworkGraph = {
      architecture: 'test',
      input: { channels: 3, height: 4, width: 4 },
      nodes: [conv('a', 'input', 3, 16, 4), conv('b', 'a', 16, 24, 4), conv('c', 'b', 24, 40, 4), conv('d', 'c', 40, 8, 4), conv('e', 'd', 8, 32, 4)],
    };
    // Outputs of b (24), c (40) and d (8); inputs of c (24) and d (40). e reads its 8 channels as they are, a the image.
    expect(isolatedConversions(graph)).toBe((24 + 40 + 8 + 24 + 40) * 16);
    expect(isolatedConversions({ ...graph, nodes: [conv('a', 'input', 3, 16, 4), conv('b', 'a', 16, 32, 4)] })).toBe(0);
  });

  it('never choose a fit that predicts no time for the narrowest configuration: the plain sum plus the mean difference instead', () => {
    // 2x − 0.2 crosses zero at 0.1; the narrowest configuration sums to 0.05.
    const rows = [0.2, 0.5, 0.9].map((x) => ({ ...sums(x, 0), measuredMs: 2 * x - 0.2 }));
    const model = fitLatencyModel(rows, sums(0.05, 0));
    // Differences 0, 0.3 and 0.7: their mean is the intercept, every coefficient 1.
    expect(model.interceptMs).toBeCloseTo(1 / 3, 10);
    expect(model.coefficients).toEqual(BLOCK_KINDS.map(() => 1));
    expect(model.layoutMsPerMelem).toBe(0);
    expect(model.ridge).toBeNull();
    expect(() => fitLatencyModel(rows.slice(0, 1), sums(0.05, 0))).toThrow(/at least 2 calibration models/);
  });

  it('quote one scale: the coefficients weighted by the widest configuration\'s blocks', () => {
    const coefficients = BLOCK_KINDS.map((kind) => ({ pointwise: 1, depthwise: 0.5, conv: 2, other: 1 })[kind as 'pointwise'] ?? 7);
    const model = { interceptMs: 0.1, coefficients, layoutMsPerMelem: 3, ridge: 1, looMape: 0 };
    // (1 × 3 + 0.5 × 2 + 2 × 0 + 1 × 1) / 6 = 5 / 6; layout conversions are no block's.
    expect(effectiveScale(model, sums(3, 2, 0, 1, 0.5))).toBeCloseTo(5 / 6, 12);
  });

  it('judge predictions by MAPE, shares within ±5% and ±10%, and Kendall τ', () => {
    // Errors 3%, 7%, 12.5% and 0%.
    expect(accuracy([1.03, 2.14, 3.5, 5], [1, 2, 4, 5])).toEqual({ configs: 4, mape: expect.closeTo(0.05625, 12), within5: 0.5, within10: 0.75, kendallTau: 1 });
    // One discordant pair of six: τ = (5 − 1) / 6.
    expect(accuracy([1.03, 2.14, 5.1, 5], [1, 2, 4, 5]).kendallTau).toBeCloseTo(4 / 6, 12);
    expect(accuracy([1], [1]).kendallTau).toBeNull();
  });

  it('spread calibration and validation configurations over the whole width range, distinct and outside the excluded set', () => {
    const space = resolveSearchSpace({ architecture: 'mbv2-fmnist', ...OPTS, maxChannels: defaultChannels('mbv2-fmnist', 1.5, OPTS), groups: 12, divisor: 8, unitOverrides: {} });
    const first = spreadConfigs(space, new Rng(7), 10, new Set());
    const excluded = new Set(first.slice(0, 5).map((c) => c.join(',')));
    const configs = spreadConfigs(space, new Rng(7), 10, excluded);
    expect(configs).toHaveLength(10);
    expect(new Set(configs.map((c) => c.join(','))).size).toBe(10);
    for (const c of configs) expect(excluded.has(c.join(','))).toBe(false);
    // The mean position of a configuration's units among their choices: the i-th of 10 near (i + ½) / 10.
    const position = (c: (typeof configs)[number]) => {
      const widths = unitWidthsOf(space.table, c);
      const units = space.table.units.filter((u) => u.choices.length > 1);
      return units.reduce((s, u) => s + u.choices.indexOf(widths[u.index]) / (u.choices.length - 1), 0) / units.length;
    };
    const positions = first.map(position);
    expect(Math.min(...positions)).toBeLessThan(0.2);
    expect(Math.max(...positions)).toBeGreaterThan(0.8);
    positions.forEach((p, i) => expect(Math.abs(p - (i + 0.5) / 10)).toBeLessThan(0.25));
  });

  it('join adjacent blocks into one, the first one\'s output kept inside', () => {
    const blocks = fusedBlocks(buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1, OPTS), OPTS));
    const dw = blocks.find((b) => b.name === 'blocks.2.dw')!;
    const project = blocks.find((b) => b.name === 'blocks.2.project')!;
    const pair = joined(dw, project);
    expect(pair.nodes.map((n) => n.name)).toEqual(['blocks.2.dw', 'blocks.2.project', ...project.nodes.slice(1).map((n) => n.name)]);
    // The depthwise conv's input and the residual the project conv adds; not the depthwise output.
    expect(pair.inputs.map((i) => i.tensor)).toEqual(['blocks.2.expand', 'blocks.1.project']);
    expect(pair.outputDims).toEqual(project.outputDims);
  });

  it('sum up the block-level error sources', () => {
    const figures = blockLevelFigures([
      {
        channels: [],
        modelMs: 10,
        blocks: [
          { name: 'a', exactMs: 2, interpolatedMs: 2, onGrid: true },
          { name: 'b', exactMs: 4, interpolatedMs: 4.4, onGrid: false },
          { name: 'c', exactMs: 2, interpolatedMs: 1.8, onGrid: false },
        ],
        pairs: [
          { first: 'a', second: 'b', aloneMs: 6, togetherMs: 5.4 },
          { first: 'b', second: 'c', aloneMs: 6, togetherMs: 6.9 },
        ],
      },
    ]);
    // Sums 8.2 against 8; off-grid blocks 10% and 10% off; pairs −0.6 and +0.9 ms of 12 together, only the first is disjoint: −0.6 of 10 ms.
    expect(figures.interpolationSumMape).toBeCloseTo(0.025, 12);
    expect(figures.interpolationBlockMape).toBeCloseTo(0.1, 12);
    expect(figures.offGridBlocks).toBe(2);
    expect(figures.onGridBlockMape).toBe(0);
    expect(figures.pairGapMean).toBeCloseTo(0.3 / 12, 12);
    expect(figures.pairGapShareOfModel).toBeCloseTo(-0.06, 12);
    expect(figures.blockSumShareOfModel).toBeCloseTo(0.8, 12);
  });

  it('time a block again while its two quickest rounds disagree by more than 5% (or 1 µs)', () => {
    expect(unsettled([0.2])).toBe(false);
    expect(unsettled([0.25, 0.2, 0.209])).toBe(false);
    expect(unsettled([0.25, 0.2, 0.211])).toBe(true);
    // 5% of 0.004 ms is below a microsecond: a microsecond apart still agrees.
    expect(unsettled([0.004, 0.0049])).toBe(false);
    expect(unsettled([0.004, 0.0051])).toBe(true);
    // Ratios to a reference of 0.1 ms: the microsecond is 0.01 of them.
    expect(unsettled([0.04, 0.0449], 0.1)).toBe(false);
    expect(unsettled([0.04, 0.0449])).toBe(true);
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
