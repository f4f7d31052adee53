import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../../api/client";
import { useFormat } from "../../format/useFormat";
import { useApi } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { QueryView } from "../../ui/QueryView";

const DAY_SECONDS = 86_400;

/** The stages the deal went through (O4), with when and how long, the current one last. */
export function StageHistoryCard({ dealId }: { dealId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["opportunity", dealId, "stageHistory"],
    queryFn: () =>
      data(api.GET("/v1/opportunities/{opportunity_id}/stageHistory", { params: { path: { opportunity_id: dealId } } })),
  });
  return (
    <Card title={t("deals.stageHistory")}>
      <QueryView query={query}>
        {(answer) => (
          <ol className="plain-list">
            {(answer.entries ?? []).map((entry, index) => (
              <li key={`${entry.stage?.stage_id}-${index}`} className="list-row">
                <div className="list-row-main">
                  <span className="list-row-title">{entry.stage?.name}</span>
                  <span className="list-row-note">
                    {format.dateTime(entry.entered_at)}
                    {entry.exited_at ? ` → ${format.dateTime(entry.exited_at)}` : ` · ${t("deals.current")}`}
                  </span>
                </div>
                <span className="badge">
                  {t("deals.daysInStage", { count: Math.floor((entry.seconds_in_stage ?? 0) / DAY_SECONDS) })}
                </span>
              </li>
            ))}
          </ol>
        )}
      </QueryView>
    </Card>
  );
}
