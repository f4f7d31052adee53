import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Opportunity } from "../api/types";
import { useFormat } from "../format/useFormat";
import { TableScroll } from "../ui/TableScroll";

/** Deals as a table: name, stage, status, amount and expected close. */
export function DealTable({ deals, caption }: { deals: Opportunity[]; caption: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <TableScroll label={caption}>
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("deals.name")}</th>
            <th scope="col">{t("deals.stage")}</th>
            <th scope="col">{t("deals.status")}</th>
            <th scope="col" className="num">{t("deals.amount")}</th>
            <th scope="col">{t("deals.close")}</th>
          </tr>
        </thead>
        <tbody>
          {deals.map((deal) => (
            <tr key={deal.id}>
              <th scope="row">
                <Link to={`/opportunities/${deal.id ?? ""}`}>{deal.name}</Link>
              </th>
              <td>{deal.stage?.name}</td>
              <td>{t(`enums.opportunityStatus.${deal.status ?? "OPPORTUNITY_STATUS_UNSPECIFIED"}`)}</td>
              <td className="num">{format.money(deal.amount)}</td>
              <td>{format.day(deal.outcome?.closed_on || deal.expected_close_date)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
