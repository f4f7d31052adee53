import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { PriorityBoardItem } from "../api/types";
import { DealCell } from "../day/DealCell";
import { staleness } from "../day/cards/StaleDealsCard";
import { daysFromToday } from "../format/date";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePeople } from "./usePeople";

const SHOWN = 8;

/** Why a deal needs the manager: gone stale, milestones late, or its close date passed. */
function reasons(item: PriorityBoardItem): string[] {
  const found: string[] = [];
  if (staleness(item)) found.push("stale");
  if ((item.late_milestones ?? 0) > 0) found.push("late");
  const days = daysFromToday(item.opportunity?.expected_close_date);
  if (days !== undefined && days < 0) found.push("overdue");
  return found;
}

/** The team's deals needing attention (O7, O9), highest priority first, with their owner. */
export function AttentionCard({ teamPath }: { teamPath: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const nameOf = usePeople();
  const query = useQuery({
    queryKey: ["priorityBoard", "team", teamPath],
    queryFn: () =>
      data(api.GET("/v1/priorityBoard", { params: { query: { "scope.team_path": teamPath, limit: 500 } } })),
  });
  return (
    <Card title={t("team.attention.title")} className="card-attention">
      <QueryView
        query={query}
        isEmpty={(answer) => !(answer.items ?? []).some((item) => reasons(item).length > 0)}
        empty={<EmptyState title={t("team.attention.empty")} hint={t("team.attention.emptyHint")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {(answer.items ?? [])
              .filter((item) => reasons(item).length > 0)
              .slice(0, SHOWN)
              .map((item) => (
                <li key={item.opportunity?.id} className="list-row">
                  <span className="list-row-main">
                    <DealCell deal={item.opportunity} />
                    <span className="list-row-note">{nameOf(item.opportunity?.owner_id)}</span>
                  </span>
                  {reasons(item).map((reason) => (
                    <span key={reason} className="badge badge-warning">
                      {t(`team.attention.${reason}`)}
                    </span>
                  ))}
                </li>
              ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
