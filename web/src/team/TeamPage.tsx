import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useCurrentPeriod } from "../day/queries";
import { useFormat } from "../format/useFormat";
import { useApi, useUser } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

/** The team's attainment leaderboard for this fiscal quarter (F7). */
export function TeamPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const user = useUser();
  const period = useCurrentPeriod("quarter");
  const query = useQuery({
    queryKey: ["leaderboard", period?.label],
    queryFn: () => data(api.GET("/v1/forecasting/leaderboard", { params: { query: { period: period!.label } } })),
    enabled: period !== undefined,
  });

  return (
    <div className="page">
      <PageHeader title={t("team.title")} subtitle={[user.team_path, period?.label].filter(Boolean).join(" · ")} />
      <div className="panel">
        <QueryView
          query={query}
          isEmpty={(answer) => (answer.entries ?? []).length === 0}
          empty={<EmptyState title={t("team.empty")} hint={t("team.emptyHint")} />}
        >
          {(answer) => (
            <div className="table-scroll">
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
            </div>
          )}
        </QueryView>
      </div>
    </div>
  );
}
