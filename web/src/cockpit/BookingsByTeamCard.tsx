import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { LeaderboardEntry, Money } from "../api/types";
import type { ForecastScope } from "../day/queries";
import type { FiscalPeriod } from "../fiscal/period";
import { isDecimal } from "../format/decimal";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { useTeamNames } from "../team/useTeamNames";
import { Card } from "../ui/Card";
import { Chart, CHART_COLORS } from "../ui/Chart";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { TableScroll } from "../ui/TableScroll";

/** A bar's length. Display only: the figures printed are the API's own decimal strings. */
function length(money: Money | undefined): number {
  return money && isDecimal(money.amount) ? Number(money.amount) : 0;
}

function BookingsChart({ entries, nameOf }: { entries: LeaderboardEntry[]; nameOf: (path: string | undefined) => string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const option = useMemo(
    () => ({
      aria: { enabled: true },
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { color: CHART_COLORS.text } },
      tooltip: { renderMode: "richText", trigger: "axis" },
      xAxis: { type: "category", data: entries.map((entry) => nameOf(entry.team_path)), axisLabel: { color: CHART_COLORS.text } },
      yAxis: {
        type: "value",
        axisLabel: {
          color: CHART_COLORS.text,
          formatter: (value: number) => format.money({ amount: String(value), currency_code: entries[0]?.result?.currency_code ?? "" }, { compact: true }),
        },
        splitLine: { lineStyle: { color: CHART_COLORS.grid } },
      },
      series: [
        { name: t("cockpit.booked"), type: "bar", barMaxWidth: 28, itemStyle: { color: CHART_COLORS.accent }, data: entries.map((entry) => length(entry.result)) },
        { name: t("cockpit.target"), type: "bar", barMaxWidth: 28, itemStyle: { color: CHART_COLORS.neutral }, data: entries.map((entry) => length(entry.target)) },
      ],
    }),
    [entries, format, nameOf, t],
  );
  return <Chart option={option} label={t("cockpit.byTeamChart")} height={240} />;
}

/** Bookings against target by region and team (F3, F7), for the quarter. */
export function BookingsByTeamCard({ period, scope }: { period: FiscalPeriod | undefined; scope: ForecastScope }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const nameOf = useTeamNames();
  const query = useQuery({
    queryKey: ["leaderboard", "teams", period?.label, scope.teamPath, scope.company],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/leaderboard", {
          params: {
            query: {
              period: period!.label,
              kind: "LEADERBOARD_KIND_TEAM",
              ...(scope.company ? { company: true } : { team_path: scope.teamPath ?? "" }),
            },
          },
        }),
      ),
    enabled: period !== undefined,
  });
  return (
    <Card title={t("cockpit.byTeam")} subtitle={period?.label} className="card-wide">
      <QueryView query={query} isEmpty={(answer) => (answer.entries ?? []).length === 0} empty={<EmptyState title={t("cockpit.noTeams")} />}>
        {(answer) => (
          <>
            <BookingsChart entries={answer.entries ?? []} nameOf={nameOf} />
            <TableScroll label={t("cockpit.byTeam")}>
              <table className="table table-compact">
                <caption className="visually-hidden">{t("cockpit.byTeam")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("cockpit.team")}</th>
                    <th scope="col" className="num">{t("cockpit.booked")}</th>
                    <th scope="col" className="num">{t("cockpit.target")}</th>
                    <th scope="col" className="num">{t("cockpit.attainment")}</th>
                  </tr>
                </thead>
                <tbody>
                  {(answer.entries ?? []).map((entry) => (
                    <tr key={entry.team_path}>
                      <th scope="row">{nameOf(entry.team_path)}</th>
                      <td className="num">{format.money(entry.result) || "—"}</td>
                      <td className="num">{format.money(entry.target) || "—"}</td>
                      <td className="num">{format.percent(entry.attainment_percent) || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          </>
        )}
      </QueryView>
    </Card>
  );
}
