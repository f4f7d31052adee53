import { lazy, Suspense } from "react";
import type { ChartCanvasProps } from "./ChartCanvas";
import { LoadingState } from "./states";

const ChartCanvas = lazy(() => import("./ChartCanvas"));

export function Chart(props: ChartCanvasProps) {
  if (typeof ResizeObserver === "undefined") return null; // No layout to draw in (tests).
  return (
    <Suspense fallback={<LoadingState />}>
      <ChartCanvas {...props} />
    </Suspense>
  );
}

/** The console's chart colours: the accent for the rep's own figures, neutrals for the rest. */
export const CHART_COLORS = {
  accent: "#2458c7",
  accentSoft: "#8fb0ec",
  neutral: "#8a94a6",
  grid: "#e3e7ee",
  text: "#3c4657",
  target: "#c2410c",
};
