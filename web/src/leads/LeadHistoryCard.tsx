import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

/** The lead's history (L9): captured, assigned, claimed, recycled, converted — newest first. */
export function LeadHistoryCard({ leadId }: { leadId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["lead", leadId, "history"],
    queryFn: () => data(api.GET("/v1/leads/{lead_id}/history", { params: { path: { lead_id: leadId } } })),
  });
  return (
    <Card title={t("leads.history")}>
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.entries ?? []).length === 0}
        empty={<EmptyState title={t("leads.noHistory")} />}
      >
        {(answer) => (
          <ol className="plain-list history">
            {[...(answer.entries ?? [])].reverse().map((entry, index) => (
              <li key={index} className="list-row">
                <span className="list-row-main">
                  <span className="list-row-title">{t(`leads.historyKinds.${entry.kind ?? ""}`, { defaultValue: entry.kind ?? "" })}</span>
                  <span className="list-row-note">{entry.summary}</span>
                </span>
                <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
              </li>
            ))}
          </ol>
        )}
      </QueryView>
    </Card>
  );
}
