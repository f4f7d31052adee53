import { useTranslation } from "react-i18next";
import type { Opportunity } from "../../api/types";
import { Card } from "../../ui/Card";

/** Members whose attitude the rep must work on. */
const WARY = new Set(["ATTITUDE_SCEPTICAL", "ATTITUDE_OPPONENT"]);

/** The buying committee (O5): who decides, who influences whom, and where each stands. */
export function CommitteeCard({ deal }: { deal: Opportunity }) {
  const { t } = useTranslation();
  const members = deal.buying_committee ?? [];
  const nameOf = (contactId: string) => members.find((member) => member.contact_id === contactId)?.contact_name ?? "";
  return (
    <Card title={t("deals.committee")}>
      {members.length === 0 ? (
        <p className="muted">{t("deals.noCommittee")}</p>
      ) : (
        <ul className="plain-list">
          {members.map((member) => (
            <li key={member.contact_id} className="list-row">
              <div className="list-row-main">
                <span className="list-row-title">{member.contact_name}</span>
                <span className="list-row-note">
                  {[
                    t(`enums.buyingRole.${member.role ?? "BUYING_ROLE_UNSPECIFIED"}`),
                    (member.influences ?? []).length > 0 &&
                      t("deals.influences", { names: (member.influences ?? []).map(nameOf).filter(Boolean).join(", ") }),
                    member.note,
                  ]
                    .filter(Boolean)
                    .join(" · ")}
                </span>
              </div>
              <span className={`badge${WARY.has(member.attitude ?? "") ? " badge-warning" : ""}`}>
                {t(`enums.attitude.${member.attitude ?? "ATTITUDE_UNSPECIFIED"}`)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
