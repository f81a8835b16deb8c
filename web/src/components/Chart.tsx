import { BarChart, CustomChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';
import { barSegments, type Bar } from '../errorBars';

echarts.use([BarChart, CustomChart, LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

/** Pixels across the cap at each end of an error bar. */
const CAP_WIDTH = 8;

interface RenderApi {
  value(dimension: number): number;
  coord(point: [number, number]): [number, number];
}

/**
 * A series of vertical error bars, drawn under the scatter series of the same name and colour so
 * that the legend toggles both. Its y dimensions are low and high, so the axis makes room for them.
 */
export function errorBarSeries({ name, color, bars }: { name: string; color: string; bars: readonly Bar[] }): Record<string, unknown> {
  return {
    type: 'custom',
    name,
    z: 1,
    silent: true,
    itemStyle: { color },
    encode: { x: 0, y: [1, 2] },
    data: bars.map((b) => [b.x, b.low, b.high]),
    renderItem: (_: unknown, api: RenderApi) => ({
      type: 'group',
      children: barSegments(api.coord([api.value(0), api.value(1)]), api.coord([api.value(0), api.value(2)]), CAP_WIDTH).map((shape) => ({
        type: 'line',
        shape,
        style: { stroke: color, lineWidth: 1.2, opacity: 0.8 },
      })),
    }),
  };
}

export interface ChartClick {
  readonly seriesName?: string;
  readonly dataIndex: number;
}

interface Props {
  readonly option: ChartOption;
  readonly height?: number;
  readonly label: string;
  readonly onClick?: (event: ChartClick) => void;
}

/** An ECharts canvas that follows its option and its container's size. */
export function Chart({ option, height = 320, label, onClick }: Props) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickHandler = useRef(onClick);
  clickHandler.current = onClick;

  useEffect(() => {
    const instance = echarts.init(element.current!);
    chart.current = instance;
    instance.on('click', (event) => clickHandler.current?.(event as unknown as ChartClick));
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(element.current!);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true, lazyUpdate: true });
  }, [option]);

  return <div class="chart" role="img" aria-label={label} ref={element} style={{ height: `${height}px` }} />;
}
