import { useEffect, useRef } from "react";
import { echarts, type EChartsCoreOption } from "./echarts";

export interface ChartCanvasProps {
  option: EChartsCoreOption;
  /** What the chart shows, for screen readers (the figures are also in a table beside it). */
  label: string;
  height?: number;
}

/** Loaded lazily (see Chart.tsx): ECharts is the largest dependency and only charts need it. */
export default function ChartCanvas({ option, label, height = 220 }: ChartCanvasProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof echarts.init> | null>(null);

  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, undefined, { renderer: "canvas" });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={element} className="chart" role="img" aria-label={label} style={{ height }} />;
}
