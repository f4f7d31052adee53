import { useQuery } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { ApiError } from "../api/problem";
import { retryDelay, shouldRetry } from "../app/queryClient";
import { isMoney } from "../format/money";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { DetailList } from "../ui/DetailList";
import { PageHeader } from "../ui/PageHeader";
import { QueryView } from "../ui/QueryView";
import { TableScroll } from "../ui/TableScroll";
import { ActivitiesCard } from "./cards/ActivitiesCard";
import { CommitteeCard } from "./cards/CommitteeCard";
import { PaymentsCard } from "./cards/PaymentsCard";
import { QuotesCard } from "./cards/QuotesCard";
import { RecommendationsCard } from "./cards/RecommendationsCard";
import { StageHistoryCard } from "./cards/StageHistoryCard";

/** Tries of a just-converted deal, half a second apart: 15 s. */
const CONVERSION_WAIT_TRIES = 30;

/**
 * One deal (O2): its stage, money and dates; what to read for it now; its buying committee,
 * competitors, activities (log one), stage history, quotes, lines and — once won — payments.
 */
export function OpportunityPage() {
  const { opportunityId = "" } = useParams();
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  // Just converted from a lead: the opportunities service creates the deal from the lead's
  // event, a moment after the conversion answered, so a 404 means "not yet" for a while.
  const [search] = useSearchParams();
  const converted = search.get("converted") === "1";
  const query = useQuery({
    queryKey: ["opportunity", opportunityId],
    queryFn: () =>
      data(api.GET("/v1/opportunities/{opportunity_id}", { params: { path: { opportunity_id: opportunityId } } })),
    retry: (failures, error) =>
      converted && error instanceof ApiError && error.problem.status === 404
        ? failures < CONVERSION_WAIT_TRIES
        : shouldRetry(failures, error),
    retryDelay: (failures, error) =>
      converted && error instanceof ApiError && error.problem.status === 404 ? 500 : retryDelay(failures, error),
  });

  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/opportunities">{t("nav.opportunities")}</Link>
      </p>
      <QueryView query={query}>
        {({ opportunity: deal = {} }) => (
          <>
            <PageHeader
              title={deal.name ?? ""}
              subtitle={[deal.pipeline_name, deal.stage?.name].filter(Boolean).join(" · ")}
            />
            <div className="detail-grid">
              <Card title={t("deals.details")}>
                <DetailList
                  items={[
                    [t("deals.status"), t(`enums.opportunityStatus.${deal.status ?? "OPPORTUNITY_STATUS_UNSPECIFIED"}`)],
                    [t("deals.amount"), format.money(deal.amount)],
                    [t("deals.corporateAmount"), format.money(deal.corporate_amount?.amount)],
                    [t("deals.probability"), format.percent(String(deal.effective_probability ?? 0), 0)],
                    [t("deals.category"), t(`enums.forecastCategory.${deal.stage?.forecast_category ?? "FORECAST_CATEGORY_UNSPECIFIED"}`)],
                    [t("deals.close"), format.day(deal.expected_close_date)],
                    [t("deals.nextStep"), deal.next_step],
                    [
                      t("deals.account"),
                      deal.account_id && <Link to={`/accounts/${deal.account_id}`}>{t("deals.openAccount")}</Link>,
                    ],
                    [t("deals.closeReason"), deal.outcome?.close_reason_label],
                    [t("deals.updated"), format.dateTime(deal.updated_at)],
                  ]}
                />
              </Card>
              <Card title={t("deals.competitors")}>
                {(deal.competitors ?? []).length === 0 ? (
                  <p className="muted">{t("deals.noCompetitors")}</p>
                ) : (
                  <ul className="plain-list">
                    {(deal.competitors ?? []).map((competitor) => (
                      <li key={competitor.competitor_id} className="list-row">
                        <div className="list-row-main">
                          <span className="list-row-title">{competitor.competitor_name}</span>
                          <span className="list-row-note">{[competitor.strengths, competitor.weaknesses].filter(Boolean).join(" · ")}</span>
                        </div>
                      </li>
                    ))}
                  </ul>
                )}
              </Card>
              {deal.status === "OPPORTUNITY_STATUS_OPEN" && <RecommendationsCard dealId={opportunityId} />}
              <CommitteeCard deal={deal} />
              <ActivitiesCard dealId={opportunityId} />
              <StageHistoryCard dealId={opportunityId} />
              <QuotesCard dealId={opportunityId} />
              {deal.status === "OPPORTUNITY_STATUS_WON" && <PaymentsCard dealId={opportunityId} />}
            </div>
            {(deal.line_items ?? []).length > 0 && (
              <Card title={t("deals.lines")}>
                <TableScroll label={t("deals.lines")}>
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">{t("deals.product")}</th>
                        <th scope="col" className="num">{t("deals.quantity")}</th>
                        <th scope="col" className="num">{t("deals.unitPrice")}</th>
                        <th scope="col" className="num">{t("deals.discount")}</th>
                        <th scope="col" className="num">{t("deals.lineTotal")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {(deal.line_items ?? []).map((line, index) => (
                        <tr key={`${line.product_code}-${index}`}>
                          <th scope="row">{line.product_name || line.product_code}</th>
                          <td className="num">{format.decimal(line.quantity, 4)}</td>
                          <td className="num">{isMoney(line.unit_price) ? format.money(line.unit_price) : ""}</td>
                          <td className="num">{typeof line.discount_percent === "string" ? format.percent(line.discount_percent) : ""}</td>
                          <td className="num">{format.money(line.total)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
              </Card>
            )}
          </>
        )}
      </QueryView>
    </div>
  );
}
