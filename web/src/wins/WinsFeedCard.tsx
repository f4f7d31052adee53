import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

const SHOWN = 8;

/**
 * The wins feed (F7): the organisation's latest won deals and who won them — recognition the
 * whole team sees, on every rep's day and on the cockpit.
 */
export function WinsFeedCard() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["wins", SHOWN],
    queryFn: () => data(api.GET("/v1/forecasting/wins", { params: { query: { limit: SHOWN } } })),
  });
  return (
    <Card title={t("wins.title")} subtitle={t("wins.subtitle")} className="card-wins">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.wins ?? []).length === 0}
        empty={<EmptyState title={t("wins.empty")} hint={t("wins.emptyHint")} />}
      >
        {(answer) => (
          <ul className="plain-list wins">
            {(answer.wins ?? []).map((win) => (
              <li key={win.opportunity_id} className="list-row">
                <div className="list-row-main">
                  <span className="list-row-title">{t("wins.wonBy", { name: win.owner_name || t("wins.someone") })}</span>
                  <span className="list-row-note">
                    {win.name} · {format.day(win.closed_on)}
                  </span>
                </div>
                <span className="num">{format.money(win.corporate_amount ?? win.amount)}</span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
