import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useDefaultPipeline } from "../day/queries";
import type { FiscalPeriod } from "../fiscal/period";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePeople } from "./usePeople";
import { TableScroll } from "../ui/TableScroll";

/**
 * The team's funnel rep by rep against the team average (O10): win rate, deal size, cycle,
 * and each rep's weakest stage — where coaching pays.
 */
export function RepFunnelCard({ period, teamPath }: { period: FiscalPeriod | undefined; teamPath: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const nameOf = usePeople();
  const pipeline = useDefaultPipeline();
  const pipelineId = pipeline.data?.id;
  const query = useQuery({
    queryKey: ["funnel", "compareReps", pipelineId, period?.fromMonth, period?.toMonth, teamPath],
    queryFn: () =>
      data(
        api.GET("/v1/funnel:compareReps", {
          params: {
            query: {
              pipeline_id: pipelineId!,
              "period.from_month": period!.fromMonth,
              "period.to_month": period!.toMonth,
              team_path: teamPath,
            },
          },
        }),
      ),
    enabled: pipelineId !== undefined && period !== undefined,
  });
  return (
    <Card title={t("team.funnel.title")} subtitle={pipeline.data?.name} className="card-rep-funnel">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.reps ?? []).length === 0}
        empty={<EmptyState title={t("team.funnel.empty")} />}
      >
        {(answer) => (
          <TableScroll label={t("team.funnel.title")}>
            <table className="table">
              <caption className="visually-hidden">{t("team.funnel.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("team.rep")}</th>
                  <th scope="col" className="num">{t("team.funnel.winRate")}</th>
                  <th scope="col" className="num">{t("team.funnel.dealSize")}</th>
                  <th scope="col" className="num">{t("team.funnel.cycle")}</th>
                  <th scope="col" className="num">{t("team.funnel.open")}</th>
                  <th scope="col">{t("team.funnel.weakest")}</th>
                </tr>
              </thead>
              <tbody>
                {(answer.reps ?? []).map((rep) => (
                  <tr key={rep.owner_id}>
                    <th scope="row">{nameOf(rep.owner_id)}</th>
                    <td className="num">{format.ratio(rep.figures?.win_rate) || "—"}</td>
                    <td className="num">{format.money(rep.figures?.average_deal_size) || "—"}</td>
                    <td className="num">{rep.figures?.average_sales_cycle_days ? t("team.funnel.days", { days: format.decimal(rep.figures.average_sales_cycle_days, 0) }) : "—"}</td>
                    <td className="num">{format.count(rep.figures?.open_deals)}</td>
                    <td>
                      {rep.weakest_stage?.name
                        ? t("team.funnel.gap", { stage: rep.weakest_stage.name, gap: format.ratio(rep.weakest_stage_gap) })
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr className="row-strong">
                  <th scope="row">{t("team.funnel.average")}</th>
                  <td className="num">{format.ratio(answer.average?.win_rate) || "—"}</td>
                  <td className="num">{format.money(answer.average?.average_deal_size) || "—"}</td>
                  <td className="num">{answer.average?.average_sales_cycle_days ? t("team.funnel.days", { days: format.decimal(answer.average.average_sales_cycle_days, 0) }) : "—"}</td>
                  <td className="num">{format.count(answer.average?.open_deals)}</td>
                  <td />
                </tr>
              </tfoot>
            </table>
          </TableScroll>
        )}
      </QueryView>
    </Card>
  );
}
