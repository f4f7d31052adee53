import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { Money, PipelineForecast } from "../../api/types";
import type { FiscalPeriod } from "../../fiscal/period";
import { isDecimal } from "../../format/decimal";
import { useFormat } from "../../format/useFormat";
import { Card } from "../../ui/Card";
import { Chart, CHART_COLORS } from "../../ui/Chart";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { type ForecastScope, useAttainment, usePipelineForecast } from "../queries";

/** A bar's length. Display only: every figure printed is the API's own decimal string. */
function length(money: Money | undefined): number {
  return money && isDecimal(money.amount) ? Number(money.amount) : 0;
}

function ForecastChart({ forecast, quota }: { forecast: PipelineForecast; quota: Money | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  const option = useMemo(() => {
    const rows = [
      { name: t("day.forecast.closed"), money: forecast.closed?.amount },
      { name: t("day.forecast.commit"), money: forecast.commit_total },
      { name: t("day.forecast.bestCase"), money: forecast.best_case_total },
    ];
    return {
      aria: { enabled: true },
      grid: { left: 8, right: 24, top: 20, bottom: 8, containLabel: true },
      tooltip: { renderMode: "richText", trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: {
        type: "value",
        axisLabel: {
          color: CHART_COLORS.text,
          // Axis ticks are ECharts' own round numbers, shown in the forecast's currency.
          formatter: (value: number) =>
            format.money({ amount: String(value), currency_code: forecast.currency_code ?? "" }, { compact: true }),
        },
        splitLine: { lineStyle: { color: CHART_COLORS.grid } },
      },
      yAxis: { type: "category", inverse: true, data: rows.map((row) => row.name), axisLabel: { color: CHART_COLORS.text } },
      series: [
        {
          type: "bar",
          barMaxWidth: 22,
          data: rows.map((row, index) => ({
            value: length(row.money),
            itemStyle: { color: index === 0 ? CHART_COLORS.accent : CHART_COLORS.accentSoft },
          })),
          tooltip: { valueFormatter: (_: unknown, index: number) => format.money(rows[index]?.money) },
          markLine: quota
            ? {
                symbol: "none",
                lineStyle: { color: CHART_COLORS.target, type: "dashed", width: 2 },
                label: { formatter: t("day.forecast.quotaLine"), color: CHART_COLORS.target, position: "start" },
                data: [{ xAxis: length(quota) }],
              }
            : undefined,
        },
      ],
    };
  }, [forecast, quota, format, t]);
  const label = t("day.forecast.chartLabel", {
    closed: format.money(forecast.closed?.amount) || "—",
    commit: format.money(forecast.commit_total) || "—",
    bestCase: format.money(forecast.best_case_total) || "—",
    quota: quota ? format.money(quota) : t("day.forecast.noQuota"),
  });
  return <Chart option={option} label={label} height={150} />;
}

/** The weighted pipeline and its categories for the period (F1, F2), against the quota (F3). */
export function ForecastCard({ period, scope }: { period: FiscalPeriod | undefined; scope?: ForecastScope }) {
  const { t } = useTranslation();
  const format = useFormat();
  const query = usePipelineForecast(period, scope);
  const attainment = useAttainment(period, scope);
  const revenueTarget = attainment.data?.kinds?.find((kind) => kind.kind === "TARGET_KIND_REVENUE")?.target;
  const quota = revenueTarget && "amount" in revenueTarget ? revenueTarget.amount : undefined;

  return (
    <Card title={t("day.forecast.title")} subtitle={period?.label} className="card-forecast">
      <QueryView
        query={query}
        isEmpty={(answer) => !answer.forecast?.currency_code && !answer.forecast?.open?.deal_count}
        empty={<EmptyState title={t("day.forecast.noCurrency")} hint={t("day.forecast.noCurrencyHint")} />}
      >
        {(answer) => {
          const forecast = answer.forecast ?? {};
          const noDeals = !forecast.open?.deal_count && !forecast.closed?.deal_count;
          return (
            <>
              <dl className="figures">
                <div>
                  <dt>{t("day.forecast.closed")}</dt>
                  <dd>{format.money(forecast.closed?.amount) || "—"}</dd>
                </div>
                <div>
                  <dt>{t("day.forecast.commit")}</dt>
                  <dd>{format.money(forecast.commit_total) || "—"}</dd>
                </div>
                <div>
                  <dt>{t("day.forecast.bestCase")}</dt>
                  <dd>{format.money(forecast.best_case_total) || "—"}</dd>
                </div>
                <div>
                  <dt>{t("day.forecast.weighted")}</dt>
                  <dd>{format.money(forecast.weighted_total) || "—"}</dd>
                </div>
              </dl>
              {noDeals ? (
                <EmptyState title={t("day.forecast.noDeals")} hint={t("day.forecast.noDealsHint")} />
              ) : (
                <>
                  <ForecastChart forecast={forecast} quota={quota} />
                  <table className="table table-compact">
                    <caption className="visually-hidden">{t("day.forecast.byCategory")}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t("day.forecast.category")}</th>
                        <th scope="col" className="num">{t("day.forecast.deals")}</th>
                        <th scope="col" className="num">{t("day.forecast.amount")}</th>
                        <th scope="col" className="num">{t("day.forecast.weightedAmount")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {(forecast.open_by_category ?? []).map((row) => (
                        <tr key={row.category}>
                          <th scope="row">{t(`enums.forecastCategory.${row.category ?? "FORECAST_CATEGORY_UNSPECIFIED"}`)}</th>
                          <td className="num">{format.count(row.totals?.deal_count)}</td>
                          <td className="num">{format.money(row.totals?.amount) || "—"}</td>
                          <td className="num">{format.money(row.totals?.weighted_amount) || "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
              {forecast.unconverted_deals ? (
                <p className="card-footnote">{t("day.forecast.unconverted", { count: forecast.unconverted_deals })}</p>
              ) : null}
            </>
          );
        }}
      </QueryView>
    </Card>
  );
}
