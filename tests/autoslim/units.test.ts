import fc from 'fast-check';
import {
  ARCHITECTURE_NAMES,
  ArchitectureName,
  architectureInfo,
  buildUnitTable,
  channelsFromUnitWidths,
  defaultChannels,
  parseChannelList,
  randomConfig,
  uniformConfig,
  unitWidthsOf,
} from '../../autoslim';
import { expectAutoSlimError } from './expect-error';

const IMAGENET = { inputSize: 224, numClasses: 1000 };
const FMNIST = { inputSize: 28, numClasses: 10 };

function tableAt(arch: ArchitectureName, width: number, unitOptions = {}) {
  const info = architectureInfo(arch);
  const opts = { inputSize: info.defaultInputSize, numClasses: info.defaultNumClasses };
  return buildUnitTable(arch, defaultChannels(arch, width, opts), opts, unitOptions);
}

describe('unit counts (AUTOSLIM.md §2)', () => {
  test.each([
    ['mobilenet-v1', 14],
    ['mobilenet-v2', 25],
    ['mnasnet', 25],
    ['resnet-50', 37],
  ] as const)('%s has %d units at 1.0x and at its start width', (arch, count) => {
    expect(tableAt(arch, 1.0).units).toHaveLength(count);
    expect(tableAt(arch, architectureInfo(arch).defaultStartWidth).units).toHaveLength(count);
  });
});

test.each(ARCHITECTURE_NAMES)('%s: every slot but the class count is in exactly one unit', (arch) => {
  const table = tableAt(arch, 1.0);
  const slots = table.units.flatMap((u) => u.members).sort((a, b) => a - b);
  expect(slots).toEqual(Array.from({ length: architectureInfo(arch).listLength - 1 }, (_, i) => i));
  table.units.forEach((u, i) => {
    expect(u.index).toBe(i);
    expect(u.choices.at(-1)).toBe(u.max);
    expect(u.choices[0]).toBe(u.min);
  });
});

test('coupling: residual stages share a unit, depthwise convs follow their input', () => {
  const mbv2 = tableAt('mobilenet-v2', 1.0);
  expect(mbv2.units.find((u) => u.name === 'blocks.1.out')).toMatchObject({
    members: [3, 5],
    layers: ['blocks.1.project', 'blocks.2.project'],
  });
  expect(mbv2.units.find((u) => u.name === 'blocks.1.mid')?.layers).toEqual(['blocks.1.expand', 'blocks.1.dw']);
  expect(mbv2.units[0]).toMatchObject({ name: 'stem', layers: ['stem', 'blocks.0.dw'] });
  const resnet = tableAt('resnet-50', 1.0);
  expect(resnet.units[1]).toMatchObject({
    name: 'stages.0.width',
    members: [1, 4, 7, 10],
    layers: ['stages.0.0.conv3', 'stages.0.0.shortcut', 'stages.0.1.conv3', 'stages.0.2.conv3'],
    max: 256,
  });
  // ResNet-20's first stage keeps the stem width, so the stem joins its residual unit.
  expect(tableAt('resnet-cifar', 1.0).units[0].members).toEqual([0, 1, 3, 5, 7]);
});

describe('width choices', () => {
  test('default: 12 groups of the max, multiples of 8, deduplicated', () => {
    const mid = tableAt('mobilenet-v2', 1.0).units.find((u) => u.name === 'blocks.1.mid')!;
    expect(mid.choices).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96]);
    const wide = tableAt('mobilenet-v2', 1.5).units.find((u) => u.name === 'blocks.1.mid')!;
    expect(wide.choices).toEqual([16, 24, 40, 48, 64, 72, 88, 96, 112, 120, 136, 144]);
    expect(tableAt('mbv2-fmnist', 1.0).units[0].choices).toEqual([8, 16]);
  });

  test('a max that is no multiple of the divisor stays the widest choice', () => {
    const list = defaultChannels('mbv2-fmnist', 1.0, FMNIST).map((w, i) => (i === 18 ? 100 : w)); // tail 320 → 100
    const supernet = parseChannelList('mbv2-fmnist', list, FMNIST);
    const tail = buildUnitTable('mbv2-fmnist', supernet, FMNIST).units.find((u) => u.name === 'tail')!;
    expect(tail.choices).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 100]);
  });

  test('group size, divisor, minimum width, per-unit overrides', () => {
    const table = tableAt('mbv2-fmnist', 1.0, {
      default: { groupSize: 32, minWidth: 40 },
      perUnit: { tail: { groups: 4, divisor: 1 }, 'blocks.1.mid': { minWidth: 96 } },
    });
    const byName = (name: string) => table.units.find((u) => u.name === name)!;
    expect(byName('blocks.3.mid').choices).toEqual([48, 80, 112, 144]);
    expect(byName('blocks.4.mid').choices).toEqual([64, 96, 128, 160, 192]);
    expect(byName('blocks.1.mid').choices).toEqual([96]);
    expect(byName('tail').choices).toEqual([80, 160, 240, 320]);
    expect(byName('blocks.6.out')).toMatchObject({ max: 64, min: 64, choices: [64] });
  });

  test('bad unit options name the field and rule', () => {
    expectAutoSlimError(() => tableAt('mbv2-fmnist', 1.0, { perUnit: { nope: { groups: 4 } } }), 'unitOptions.perUnit.nope', 'known-unit');
    expectAutoSlimError(() => tableAt('mbv2-fmnist', 1.0, { default: { groups: 4, groupSize: 8 } }), 'unitOptions.default', 'exclusive');
    expectAutoSlimError(() => tableAt('mbv2-fmnist', 1.0, { default: { groups: 0 } }), 'unitOptions.default.groups', 'positive-integer');
    const tooWide = { perUnit: { stem: { minWidth: 17 } } };
    expectAutoSlimError(() => tableAt('mbv2-fmnist', 1.0, tooWide), 'unitOptions.perUnit.stem.minWidth', 'maximum');
  });
});

describe('configurations from unit widths', () => {
  const table = tableAt('mobilenet-v2', 1.5);

  test('round trip through unit widths', () => {
    fc.assert(
      fc.property(fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), (stream) => {
        const config = randomConfig(table, () => stream.next().value);
        const widths = unitWidthsOf(table, config);
        widths.forEach((w, i) => expect(table.units[i].choices).toContain(w));
        expect(channelsFromUnitWidths(table, widths)).toEqual(config);
      }),
      { numRuns: 30 },
    );
  });

  test('widest and narrowest', () => {
    expect(uniformConfig(table, 1)).toEqual(table.structure);
    expect(unitWidthsOf(table, uniformConfig(table, 0))).toEqual(table.units.map((u) => u.min));
    expect(randomConfig(table, () => 0.999999)).toEqual(table.structure);
  });

  test('bad widths', () => {
    expectAutoSlimError(() => channelsFromUnitWidths(table, [8]), 'widths', 'length');
    const widths = table.units.map((u) => u.max);
    widths[2] = 143;
    expectAutoSlimError(() => channelsFromUnitWidths(table, widths), 'widths[2]', 'choice');
    expectAutoSlimError(() => uniformConfig(table, 1.5), 'position', 'range');
  });
});

test('unit tables are plain data', () => {
  const table = tableAt('resnet-50', 1.0);
  expect(JSON.parse(JSON.stringify(table))).toEqual(table);
  expect(defaultChannels('resnet-50', 1.0, IMAGENET)).toEqual(table.structure);
});
