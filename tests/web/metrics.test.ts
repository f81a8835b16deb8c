import { metricCharts, metricValue } from '../../web/src/metrics';

describe('training curves as charts', () => {
  it('puts the widest and the narrowest config of a metric on one chart, widest first', () => {
    const charts = metricCharts(['loss/narrowest', 'lr', 'heldout_top1/narrowest', 'loss', 'heldout_top1/widest', 'images_per_s']);
    expect(charts.map((c) => [c.title, c.lines.map((l) => l.label)])).toEqual([
      ['Top-1 on the search hold-out split (BN recalibrated)', ['widest', 'narrowest']],
      ['Throughput (images per second)', ['Throughput (images per second)']],
      ['Training loss', ['widest', 'narrowest']],
      ['Learning rate', ['Learning rate']],
    ]);
    expect(charts.find((c) => c.family === 'loss')!.lines.map((l) => l.key)).toEqual(['loss', 'loss/narrowest']);
  });

  it('shows accuracies in percent and other metrics as numbers', () => {
    const [top1, loss] = metricCharts(['top1', 'loss']).sort((a, b) => a.family.localeCompare(b.family)).reverse();
    expect(top1!.percent).toBe(true);
    expect(loss!.percent).toBe(false);
    expect(metricValue(0.6767, true)).toBe('67.67%');
    expect(metricValue(0.17081, false)).toBe('0.1708');
  });

  it('names a metric it does not know from its key', () => {
    expect(metricCharts(['val_loss'])[0]!.title).toBe('Val loss');
  });
});
