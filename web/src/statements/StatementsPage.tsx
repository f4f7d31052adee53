import { useTranslation } from "react-i18next";
import { useCommission } from "../day/commission";
import { useFormat } from "../format/useFormat";
import { useUser } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { EmptyState, LoadingState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { TableScroll } from "../ui/TableScroll";

/** The rep's statement for the current pay period (C4), every line with what produced it. */
export function StatementsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const commission = useCommission(user.id);
  const notOnPlan = <EmptyState title={t("day.commission.noPlan")} hint={t("day.commission.noPlanHint")} />;

  return (
    <div className="page">
      <PageHeader title={t("statements.title")} subtitle={[commission.assignment?.plan_name, commission.period?.label].filter(Boolean).join(" · ")} />
      <div className="panel">
        <QueryView query={commission.assignments} isEmpty={() => !commission.assignment} empty={notOnPlan}>
          {() => (
            <QueryView query={commission.plan} isEmpty={() => !commission.version} empty={notOnPlan}>
              {() =>
                !commission.period ? (
                  <LoadingState />
                ) : (
                  <QueryView
                    query={commission.statement}
                    isEmpty={(answer) => (answer.statement?.lines ?? []).length === 0}
                    empty={<EmptyState title={t("statements.noLines")} hint={t("statements.noLinesHint")} />}
                  >
                    {(answer) => (
                      <TableScroll label={t("statements.title")}>
                        <table className="table">
                          <caption className="visually-hidden">{t("statements.title")}</caption>
                          <thead>
                            <tr>
                              <th scope="col">{t("statements.component")}</th>
                              <th scope="col">{t("statements.deal")}</th>
                              <th scope="col" className="num">{t("statements.base")}</th>
                              <th scope="col" className="num">{t("statements.rate")}</th>
                              <th scope="col" className="num">{t("statements.amount")}</th>
                            </tr>
                          </thead>
                          <tbody>
                            {(answer.statement?.lines ?? []).map((line, index) => (
                              <tr key={`${line.credit_id}-${line.component}-${index}`} className={line.paid ? undefined : "row-muted"}>
                                <th scope="row">
                                  {t(`enums.component.${line.component ?? "COMPONENT_UNSPECIFIED"}`)}
                                  {line.note && <span className="cell-note">{line.note}</span>}
                                </th>
                                <td>{line.deal_name}</td>
                                <td className="num">{format.decimal(line.base, 10)}</td>
                                <td className="num">{format.percent(line.rate, 10)}</td>
                                <td className="num">{format.money(line.amount)}</td>
                              </tr>
                            ))}
                          </tbody>
                          <tfoot>
                            <tr>
                              <th scope="row" colSpan={4}>
                                {t("statements.total")}
                              </th>
                              <td className="num">{format.money(answer.statement?.total)}</td>
                            </tr>
                          </tfoot>
                        </table>
                      </TableScroll>
                    )}
                  </QueryView>
                )
              }
            </QueryView>
          )}
        </QueryView>
      </div>
    </div>
  );
}
