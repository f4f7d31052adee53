// ECharts from its core with only what the console draws, to keep the chunk small. The canvas
// renderer draws everything itself; tooltips use `richText` (drawn on the canvas) because the
// HTML tooltip writes inline `style` attributes, which the Content-Security-Policy refuses.
import { BarChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

export { echarts };
export type { EChartsCoreOption } from "echarts/core";
