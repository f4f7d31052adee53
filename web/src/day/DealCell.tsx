import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Opportunity } from "../api/types";
import { daysFromToday } from "../format/date";
import { useFormat } from "../format/useFormat";

/** A deal's name, stage, amount and close date: what a rep recognises a deal by. */
export function DealCell({ deal }: { deal: Opportunity | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (!deal) return null;
  const days = daysFromToday(deal.expected_close_date);
  return (
    <div className="deal-cell">
      <Link to={`/opportunities/${deal.id ?? ""}`} className="deal-name">
        {deal.name || t("day.board.unnamedDeal")}
      </Link>
      <span className="deal-meta">
        {[
          deal.stage?.name,
          format.money(deal.amount),
          days === undefined
            ? undefined
            : t(days < 0 ? "day.board.closeDatePassed" : "day.board.closes", { when: format.relativeDays(days) }),
        ]
          .filter(Boolean)
          .join(" · ")}
      </span>
    </div>
  );
}
