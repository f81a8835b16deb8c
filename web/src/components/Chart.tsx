import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';

echarts.use([BarChart, LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

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
