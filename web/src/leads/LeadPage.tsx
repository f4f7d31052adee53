import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { localize } from "../i18n/localizable";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { DetailList } from "../ui/DetailList";
import { PageHeader } from "../ui/PageHeader";
import { QueryView } from "../ui/QueryView";
import { LeadActions } from "./LeadActions";
import { LeadHistoryCard } from "./LeadHistoryCard";
import { leadName } from "./leadName";

/** One lead: what to do next with it, its details, its score's reasons (L8) and its history. */
export function LeadPage() {
  const { leadId = "" } = useParams();
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["lead", leadId],
    queryFn: () => data(api.GET("/v1/leads/{lead_id}", { params: { path: { lead_id: leadId } } })),
  });

  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/leads">{t("nav.leads")}</Link>
      </p>
      <QueryView query={query}>
        {({ lead = {} }) => (
          <>
            <PageHeader title={leadName(lead) || t("leads.unnamed")} subtitle={lead.company} />
            {lead.possible_duplicate_of && (
              <p className="notice notice-warning" role="status">
                {t("leads.possibleDuplicate", { score: lead.duplicate_score ?? 0 })}{" "}
                <Link to={`/leads/${lead.possible_duplicate_of}`}>{t("leads.openDuplicate")}</Link>
              </p>
            )}
            <div className="detail-grid">
              <LeadActions lead={lead} />
              <Card title={t("leads.details")}>
                <DetailList
                  items={[
                    [t("leads.status"), t(`enums.leadStatus.${lead.status ?? "LEAD_STATUS_UNSPECIFIED"}`)],
                    [t("leads.titleField"), lead.title],
                    [t("leads.email"), lead.email && <a href={`mailto:${lead.email}`}>{lead.email}</a>],
                    [t("leads.phone"), lead.phone && <a href={`tel:${lead.phone}`}>{lead.phone}</a>],
                    [t("leads.industry"), lead.industry],
                    [t("leads.territory"), lead.territory],
                    [t("leads.productInterest"), lead.product_interest],
                    [t("leads.channel"), t(`enums.sourceChannel.${lead.source_channel ?? "SOURCE_CHANNEL_UNSPECIFIED"}`)],
                    [t("leads.pool"), lead.owner_id ? "" : lead.pool_team_path],
                    [t("leads.created"), format.dateTime(lead.created_at)],
                    [t("leads.lastTouched"), format.dateTime(lead.last_touched_at)],
                  ]}
                />
                {lead.description && <p className="prose">{lead.description}</p>}
              </Card>
              <Card
                title={t("leads.scoreTitle")}
                subtitle={t("leads.scoreSummary", {
                  total: lead.score?.total ?? 0,
                  fit: lead.score?.fit ?? 0,
                  engagement: lead.score?.engagement ?? 0,
                })}
              >
                {(lead.score?.reasons ?? []).length === 0 ? (
                  <p className="muted">{t("leads.noReasons")}</p>
                ) : (
                  <ul className="plain-list">
                    {(lead.score?.reasons ?? []).map((reason, index) => (
                      <li key={index} className="list-row">
                        <span>{localize(i18n, reason.text) || reason.label}</span>
                        <span className="badge">{t("leads.points", { points: reason.points ?? 0 })}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </Card>
              <LeadHistoryCard leadId={leadId} />
            </div>
          </>
        )}
      </QueryView>
    </div>
  );
}
