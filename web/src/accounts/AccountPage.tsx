import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { DealTable } from "../opportunities/DealTable";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { DetailList } from "../ui/DetailList";
import { PageHeader } from "../ui/PageHeader";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

/** The account 360° view (A5) as the gateway assembles it: the account, its figures, people and deals. */
export function AccountPage() {
  const { accountId = "" } = useParams();
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["account360", accountId],
    queryFn: () => data(api.GET("/v1/accountViews/{account_id}", { params: { path: { account_id: accountId } } })),
  });

  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/accounts">{t("nav.accounts")}</Link>
      </p>
      <QueryView query={query}>
        {(view) => {
          const account = view.account ?? {};
          const summary = view.summary ?? {};
          return (
            <>
              <PageHeader title={account.name ?? ""} subtitle={[account.industry, account.region].filter(Boolean).join(" · ")} />
              <dl className="figures figures-wide panel">
                <div>
                  <dt>{t("accounts.openPipeline")}</dt>
                  <dd>{format.money(summary.open_amount) || "—"}</dd>
                </div>
                <div>
                  <dt>{t("accounts.openDeals")}</dt>
                  <dd>{format.count(summary.open_deals)}</dd>
                </div>
                <div>
                  <dt>{t("accounts.wonAmount")}</dt>
                  <dd>{format.money(summary.won_amount) || "—"}</dd>
                </div>
                <div>
                  <dt>{t("accounts.winRate")}</dt>
                  <dd>{format.ratio(summary.win_rate) || "—"}</dd>
                </div>
              </dl>
              <div className="detail-grid">
                <Card title={t("accounts.details")}>
                  <DetailList
                    items={[
                      [t("accounts.tier"), t(`enums.accountTier.${account.tier ?? "ACCOUNT_TIER_UNSPECIFIED"}`)],
                      [t("accounts.size"), t(`enums.companySize.${account.size ?? "COMPANY_SIZE_UNSPECIFIED"}`)],
                      [t("accounts.website"), account.website],
                      [t("accounts.phone"), account.phone],
                      [t("accounts.trailingRevenue"), format.money(account.trailing_won_revenue)],
                      [t("accounts.tags"), (account.tags ?? []).join(", ")],
                    ]}
                  />
                </Card>
                <Card title={t("accounts.contacts")} subtitle={t("accounts.contactCount", { count: (view.contacts ?? []).length })}>
                  {(view.contacts ?? []).length === 0 ? (
                    <EmptyState title={t("accounts.noContacts")} />
                  ) : (
                    <ul className="plain-list">
                      {(view.contacts ?? []).map((contact) => (
                        <li key={contact.id} className="list-row">
                          <div className="list-row-main">
                            <span className="list-row-title">{contact.full_name}</span>
                            <span className="list-row-note">{[contact.title, contact.email, contact.phone].filter(Boolean).join(" · ")}</span>
                          </div>
                        </li>
                      ))}
                    </ul>
                  )}
                </Card>
              </div>
              <Card title={t("accounts.openDealsTitle")}>
                {(view.open_opportunities ?? []).length === 0 ? (
                  <EmptyState title={t("accounts.noOpenDeals")} />
                ) : (
                  <DealTable deals={view.open_opportunities ?? []} caption={t("accounts.openDealsTitle")} />
                )}
              </Card>
              <Card title={t("accounts.closedDealsTitle")}>
                {(view.closed_opportunities ?? []).length === 0 ? (
                  <EmptyState title={t("accounts.noClosedDeals")} />
                ) : (
                  <DealTable deals={view.closed_opportunities ?? []} caption={t("accounts.closedDealsTitle")} />
                )}
              </Card>
            </>
          );
        }}
      </QueryView>
    </div>
  );
}
