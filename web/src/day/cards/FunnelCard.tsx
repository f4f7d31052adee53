import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { StageFunnel } from "../../api/types";
import type { FiscalPeriod } from "../../fiscal/period";
import { useFormat } from "../../format/useFormat";
import { useUser } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { Chart, CHART_COLORS } from "../../ui/Chart";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { useDefaultPipeline, useFunnel } from "../queries";

function FunnelChart({ stages }: { stages: StageFunnel[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const option = useMemo(
    () => ({
      aria: { enabled: true },
      grid: { left: 8, right: 8, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { color: CHART_COLORS.text } },
      tooltip: { renderMode: "richText", trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: stages.map((stage) => stage.stage?.name ?? ""), axisLabel: { color: CHART_COLORS.text } },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: CHART_COLORS.grid } } },
      series: [
        { name: t("day.funnel.entered"), type: "bar", data: stages.map((stage) => stage.entered ?? 0), itemStyle: { color: CHART_COLORS.accentSoft } },
        { name: t("day.funnel.advanced"), type: "bar", data: stages.map((stage) => stage.advanced ?? 0), itemStyle: { color: CHART_COLORS.accent } },
        { name: t("day.funnel.lost"), type: "bar", data: stages.map((stage) => stage.lost ?? 0), itemStyle: { color: CHART_COLORS.neutral } },
      ],
    }),
    [stages, t],
  );
  const label = stages
    .map((stage) =>
      t("day.funnel.stageLabel", {
        stage: stage.stage?.name,
        entered: format.count(stage.entered),
        advanced: format.count(stage.advanced),
        lost: format.count(stage.lost),
      }),
    )
    .join("; ");
  return <Chart option={option} label={label} height={200} />;
}

/** The rep's own funnel for the period's months (O10): how deals move through each stage. */
export function FunnelCard({ period }: { period: FiscalPeriod | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const pipeline = useDefaultPipeline();
  const funnel = useFunnel(pipeline.data?.id, period, user.id);
  const ratio = (value: string | undefined) => format.ratio(value, 0) || "—";

  return (
    <Card title={t("day.funnel.title")} subtitle={[pipeline.data?.name, period?.label].filter(Boolean).join(" · ")} className="card-funnel">
      <QueryView query={pipeline} isEmpty={(value) => value === null} empty={<EmptyState title={t("day.funnel.noPipeline")} />}>
        {() => (
          <QueryView
            query={funnel}
            isEmpty={(answer) => (answer.stages ?? []).every((stage) => !stage.entered && !stage.exited)}
            empty={<EmptyState title={t("day.funnel.empty")} hint={t("day.funnel.emptyHint")} />}
          >
            {(answer) => {
              const stages = answer.stages ?? [];
              const figures = answer.figures ?? {};
              return (
                <>
                  <dl className="figures">
                    <div>
                      <dt>{t("day.funnel.winRate")}</dt>
                      <dd>{ratio(figures.win_rate)}</dd>
                    </div>
                    <div>
                      <dt>{t("day.funnel.averageDeal")}</dt>
                      <dd>{format.money(figures.average_deal_size) || "—"}</dd>
                    </div>
                    <div>
                      <dt>{t("day.funnel.cycle")}</dt>
                      <dd>{figures.average_sales_cycle_days ? t("day.funnel.days", { days: format.decimal(figures.average_sales_cycle_days, 1) }) : "—"}</dd>
                    </div>
                    <div>
                      <dt>{t("day.funnel.velocity")}</dt>
                      <dd>{format.money(figures.velocity_per_day) || "—"}</dd>
                    </div>
                  </dl>
                  <FunnelChart stages={stages} />
                  <table className="table table-compact">
                    <caption className="visually-hidden">{t("day.funnel.byStage")}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t("day.funnel.stage")}</th>
                        <th scope="col" className="num">{t("day.funnel.entered")}</th>
                        <th scope="col" className="num">{t("day.funnel.conversion")}</th>
                        <th scope="col" className="num">{t("day.funnel.daysInStage")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {stages.map((stage) => (
                        <tr key={stage.stage?.stage_id}>
                          <th scope="row">{stage.stage?.name}</th>
                          <td className="num">{format.count(stage.entered)}</td>
                          <td className="num">{ratio(stage.conversion_rate)}</td>
                          <td className="num">{format.decimal(stage.average_days_in_stage, 1) || "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <p className="card-footnote">{t("day.funnel.noAverage")}</p>
                </>
              );
            }}
          </QueryView>
        )}
      </QueryView>
    </Card>
  );
}
