import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { Money } from "../api/types";
import { scopeQuery, useAttainment, usePipelineForecast, type ForecastScope } from "../day/queries";
import type { FiscalPeriod } from "../fiscal/period";
import { isDecimal } from "../format/decimal";
import { useFormat } from "../format/useFormat";
import { usePeople } from "../team/usePeople";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

const SHOWN = 8;

function amountOf(money: Money | undefined): number {
  return money && isDecimal(money.amount) ? Number(money.amount) : 0;
}

/** The period's deals of the scope, as the forecast counts them (one page: 500 deals). */
function usePeriodDeals(period: FiscalPeriod | undefined, scope: ForecastScope) {
  const api = useApi();
  return useQuery({
    queryKey: ["forecastDeals", period?.label, scope.teamPath, scope.company],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/deals", {
          params: { query: { period: period!.label, "page.page_size": 500, ...scopeQuery(scope) } },
        }),
      ),
    enabled: period !== undefined,
  });
}

/**
 * Pipeline coverage (F1, F3): the open pipeline closing this period against what is left of
 * the target. A ratio to glance at (shown to one decimal); the amounts beside it are exact.
 */
export function CoverageCard({ period, scope }: { period: FiscalPeriod | undefined; scope: ForecastScope }) {
  const { t } = useTranslation();
  const format = useFormat();
  const forecast = usePipelineForecast(period, scope);
  const attainment = useAttainment(period, scope);
  const revenue = attainment.data?.kinds?.find((kind) => kind.kind === "TARGET_KIND_REVENUE");
  const target = revenue?.target && "amount" in revenue.target ? revenue.target.amount : undefined;
  return (
    <Card title={t("cockpit.coverage")} subtitle={period?.label}>
      <QueryView query={forecast}>
        {({ forecast: answer = {} }) => {
          const open = answer.open?.amount;
          const remaining = amountOf(target) - amountOf(answer.closed?.amount);
          const coverage = target && remaining > 0 ? amountOf(open) / remaining : undefined;
          return (
            <div className="headline">
              <p className="headline-value">
                {coverage !== undefined ? t("cockpit.coverageValue", { value: format.decimal(coverage.toFixed(1), 1) }) : "—"}
              </p>
              <p className="headline-meta">
                {target
                  ? remaining > 0
                    ? t("cockpit.coverageMeta", { open: format.money(open), remaining: format.money({ amount: remaining.toFixed(2), currency_code: answer.currency_code ?? "" }) })
                    : t("cockpit.targetMet")
                  : t("cockpit.noTarget")}
              </p>
            </div>
          );
        }}
      </QueryView>
    </Card>
  );
}

/** The biggest open deals closing this period, with their owner and stage. */
export function TopDealsCard({ period, scope }: { period: FiscalPeriod | undefined; scope: ForecastScope }) {
  const { t } = useTranslation();
  const format = useFormat();
  const nameOf = usePeople();
  const query = usePeriodDeals(period, scope);
  return (
    <Card title={t("cockpit.topDeals")} subtitle={period?.label}>
      <QueryView
        query={query}
        isEmpty={(answer) => !(answer.deals ?? []).some((deal) => deal.status === "OPPORTUNITY_STATUS_OPEN")}
        empty={<EmptyState title={t("cockpit.noOpenDeals")} />}
      >
        {(answer) => (
          <ol className="plain-list">
            {(answer.deals ?? [])
              .filter((deal) => deal.status === "OPPORTUNITY_STATUS_OPEN")
              .sort((a, b) => amountOf(b.corporate_amount) - amountOf(a.corporate_amount))
              .slice(0, SHOWN)
              .map((deal) => (
                <li key={deal.opportunity_id} className="list-row">
                  <div className="list-row-main">
                    <Link to={`/opportunities/${deal.opportunity_id ?? ""}`} className="list-row-title">
                      {deal.name}
                    </Link>
                    <span className="list-row-note">
                      {[nameOf(deal.owner_id), deal.stage_name, format.day(deal.expected_close_date)].filter(Boolean).join(" · ")}
                    </span>
                  </div>
                  <span className="num">{format.money(deal.corporate_amount)}</span>
                </li>
              ))}
          </ol>
        )}
      </QueryView>
    </Card>
  );
}
