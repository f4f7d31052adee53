import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Lead } from "../../api/types";
import { useFormat } from "../../format/useFormat";
import { useUser } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { leadName } from "../../leads/leadName";
import { useLeadCommand } from "../../leads/useLeadCommands";
import { useLeadPool, useNewLeads } from "../queries";
import { ProblemMessage } from "../../ui/ProblemMessage";

const SHOWN = 5;


function LeadRow({ lead, action }: { lead: Lead; action?: React.ReactNode }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <li className="list-row">
      <div className="list-row-main">
        <Link to={`/leads/${lead.id ?? ""}`} className="list-row-title">
          {leadName(lead) || t("leads.unnamed")}
        </Link>
        <span className="list-row-note">
          {[lead.company, lead.territory, lead.created_at && t("day.leads.since", { when: format.instantDay(lead.created_at) })]
            .filter(Boolean)
            .join(" · ")}
        </span>
      </div>
      <span className="badge" title={t("day.leads.scoreTitle")}>
        {t("day.leads.score", { score: lead.score?.total ?? 0 })}
      </span>
      {action}
    </li>
  );
}

function ClaimButton({ lead }: { lead: Lead }) {
  const { t } = useTranslation();
  const claim = useLeadCommand("claim");
  return (
    <span className="claim">
      <button
        type="button"
        className="button button-small button-primary"
        onClick={() => claim.mutate(lead.id ?? "")}
        disabled={claim.isPending}
        aria-label={t("day.leads.claimLabel", { name: leadName(lead) })}
      >
        {claim.isPending ? t("day.leads.claiming") : t("day.leads.claim")}
      </button>
      <ProblemMessage error={claim.error} inline />
    </span>
  );
}

/** Leads waiting for the rep (L3, L4): assigned and not yet worked, and claimable in the pool. */
export function LeadsWaitingCard() {
  const { t } = useTranslation();
  const user = useUser();
  const assigned = useNewLeads(user.id, SHOWN);
  const pool = useLeadPool(SHOWN);
  return (
    <Card
      title={t("day.leads.title")}
      actions={
        <Link to="/leads" className="card-link">
          {t("day.leads.all")}
        </Link>
      }
      className="card-leads"
    >
      <h3 className="card-section">{t("day.leads.assigned")}</h3>
      <QueryView
        query={assigned}
        isEmpty={(answer) => (answer.leads ?? []).length === 0}
        empty={<EmptyState title={t("day.leads.noneAssigned")} hint={t("day.leads.noneAssignedHint")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {(answer.leads ?? []).map((lead) => (
              <LeadRow key={lead.id} lead={lead} />
            ))}
          </ul>
        )}
      </QueryView>
      <h3 className="card-section">{t("day.leads.pool")}</h3>
      <QueryView
        query={pool}
        isEmpty={(answer) => (answer.leads ?? []).length === 0}
        empty={<EmptyState title={t("day.leads.poolEmpty")} hint={t("day.leads.poolEmptyHint")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {(answer.leads ?? []).map((lead) => (
              <LeadRow key={lead.id} lead={lead} action={<ClaimButton lead={lead} />} />
            ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
