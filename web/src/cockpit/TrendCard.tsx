import { useMemo } from "react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { scopeQuery, useDefaultPipeline, useOrgSettings, type ForecastScope } from "../day/queries";
import { calendarOf, periodOf, type FiscalPeriod } from "../fiscal/period";
import { isDecimal } from "../format/decimal";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { Chart, CHART_COLORS } from "../ui/Chart";
import { QueryView } from "../ui/QueryView";
import { TableScroll } from "../ui/TableScroll";

const QUARTERS = 4;

/** The last `count` fiscal quarters, the oldest first, ending with the current one. */
function lastQuarters(settings: Parameters<typeof calendarOf>[0], count: number): FiscalPeriod[] {
  const calendar = calendarOf(settings);
  const today = new Date();
  return Array.from({ length: count }, (_, index) => {
    const day = new Date(today.getFullYear(), today.getMonth() - 3 * (count - 1 - index), 15);
    return periodOf(calendar, "quarter", day);
  });
}

/**
 * The trend (F3, O10): attainment of target over the last four quarters, with each quarter's
 * win rate and sales cycle from the funnel — is the team getting better at winning, and faster?
 */
export function TrendCard({ period, scope }: { period: FiscalPeriod | undefined; scope: ForecastScope }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const settings = useOrgSettings();
  const pipeline = useDefaultPipeline();
  const quarters = useMemo(
    () => (settings.data ? lastQuarters(settings.data.settings, QUARTERS) : []),
    [settings.data],
  );
  const trend = useQuery({
    queryKey: ["attainmentTrend", period?.label, scope.teamPath, scope.company],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/attainmentTrend", {
          params: { query: { period: period!.label, periods: QUARTERS, ...scopeQuery(scope) } },
        }),
      ),
    enabled: period !== undefined,
  });
  const funnels = useQueries({
    queries: quarters.map((quarter) => ({
      queryKey: ["funnel", "trend", pipeline.data?.id, quarter.fromMonth, quarter.toMonth, scope.teamPath],
      queryFn: () =>
        data(
          api.GET("/v1/funnel", {
            params: {
              query: {
                pipeline_id: pipeline.data!.id!,
                "period.from_month": quarter.fromMonth,
                "period.to_month": quarter.toMonth,
                ...(scope.teamPath ? { "scope.team_path": scope.teamPath } : {}),
              },
            },
          }),
        ),
      enabled: Boolean(pipeline.data?.id),
    })),
  });

  const option = useMemo(() => {
    const points = trend.data?.points ?? [];
    return {
      aria: { enabled: true },
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { color: CHART_COLORS.text } },
      tooltip: { renderMode: "richText", trigger: "axis" },
      xAxis: { type: "category", data: points.map((point) => point.period?.label ?? ""), axisLabel: { color: CHART_COLORS.text } },
      yAxis: { type: "value", axisLabel: { color: CHART_COLORS.text, formatter: "{value}%" }, splitLine: { lineStyle: { color: CHART_COLORS.grid } } },
      series: [
        {
          name: t("cockpit.attainment"),
          type: "line",
          itemStyle: { color: CHART_COLORS.accent },
          // Display only: the table prints the API's own figures.
          data: points.map((point) => (isDecimal(point.attainment_percent) ? Number(point.attainment_percent) : null)),
        },
      ],
    };
  }, [trend.data, t]);

  return (
    <Card title={t("cockpit.trend")} className="card-wide">
      <QueryView query={trend}>
        {(answer) => (
          <>
            <Chart option={option} label={t("cockpit.trendChart")} height={200} />
            <TableScroll label={t("cockpit.trend")}>
              <table className="table table-compact">
                <caption className="visually-hidden">{t("cockpit.trend")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("cockpit.quarter")}</th>
                    <th scope="col" className="num">{t("cockpit.booked")}</th>
                    <th scope="col" className="num">{t("cockpit.attainment")}</th>
                    <th scope="col" className="num">{t("cockpit.winRate")}</th>
                    <th scope="col" className="num">{t("cockpit.cycle")}</th>
                  </tr>
                </thead>
                <tbody>
                  {(answer.points ?? []).map((point, index) => {
                    // The funnel of the same quarter (the trend and the quarters both end now).
                    const figures = funnels[index]?.data?.figures;
                    return (
                      <tr key={point.period?.label}>
                        <th scope="row">{point.period?.label}</th>
                        <td className="num">{format.money(point.result) || "—"}</td>
                        <td className="num">{format.percent(point.attainment_percent) || "—"}</td>
                        <td className="num">{format.ratio(figures?.win_rate) || "—"}</td>
                        <td className="num">
                          {figures?.average_sales_cycle_days
                            ? t("team.funnel.days", { days: format.decimal(figures.average_sales_cycle_days, 0) })
                            : "—"}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableScroll>
          </>
        )}
      </QueryView>
    </Card>
  );
}
