import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { FiscalPeriod } from "../fiscal/period";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { TableScroll } from "../ui/TableScroll";

/** The team's attainment leaderboard for the period (F7): attainment, then bookings. */
export function LeaderboardCard({ period, teamPath }: { period: FiscalPeriod | undefined; teamPath: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["leaderboard", period?.label, teamPath],
    queryFn: () =>
      data(api.GET("/v1/forecasting/leaderboard", { params: { query: { period: period!.label, team_path: teamPath } } })),
    enabled: period !== undefined,
  });
  return (
    <Card title={t("team.title")} subtitle={period?.label} className="card-leaderboard">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.entries ?? []).length === 0}
        empty={<EmptyState title={t("team.empty")} hint={t("team.emptyHint")} />}
      >
        {(answer) => (
          <TableScroll label={t("team.title")}>
            <table className="table">
              <caption className="visually-hidden">{t("team.title")}</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">{t("team.rank")}</th>
                  <th scope="col">{t("team.rep")}</th>
                  <th scope="col" className="num">{t("team.result")}</th>
                  <th scope="col" className="num">{t("team.target")}</th>
                  <th scope="col" className="num">{t("team.attainment")}</th>
                </tr>
              </thead>
              <tbody>
                {(answer.entries ?? []).map((entry) => (
                  <tr key={entry.user_id || entry.team_path}>
                    <td className="num">{entry.rank}</td>
                    <th scope="row">{entry.display_name}</th>
                    <td className="num">{format.money(entry.result) || "—"}</td>
                    <td className="num">{format.money(entry.target) || "—"}</td>
                    <td className="num">{format.percent(entry.attainment_percent) || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )}
      </QueryView>
    </Card>
  );
}
