import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../../api/client";
import { useFormat } from "../../format/useFormat";
import { useApi } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";

/** The deal's quotes (D2), newest first: number, version, status, total, discount. */
export function QuotesCard({ dealId }: { dealId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["opportunity", dealId, "quotes"],
    queryFn: () => data(api.GET("/v1/opportunities/{opportunity_id}/quotes", { params: { path: { opportunity_id: dealId } } })),
  });
  return (
    <Card title={t("deals.quotes")}>
      <QueryView query={query} isEmpty={(answer) => (answer.quotes ?? []).length === 0} empty={<EmptyState title={t("deals.noQuotes")} />}>
        {(answer) => (
          <ul className="plain-list">
            {(answer.quotes ?? []).map((quote) => (
              <li key={quote.id} className="list-row">
                <div className="list-row-main">
                  <span className="list-row-title">
                    {t("deals.quoteNumber", { number: quote.number ?? "", version: quote.quote_version ?? 1 })}
                  </span>
                  <span className="list-row-note">
                    {[
                      format.money(quote.figures?.total),
                      quote.figures?.discount_percent && t("deals.quoteDiscount", { percent: format.percent(quote.figures.discount_percent) }),
                      quote.valid_until && t("deals.validUntil", { date: format.day(quote.valid_until) }),
                    ]
                      .filter(Boolean)
                      .join(" · ")}
                  </span>
                </div>
                <span className={`badge${quote.status === "QUOTE_STATUS_PENDING_APPROVAL" ? " badge-warning" : ""}`}>
                  {t(`enums.quoteStatus.${quote.status ?? "QUOTE_STATUS_UNSPECIFIED"}`)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
