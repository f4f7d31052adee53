import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../format/useFormat";
import { useUser } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState, LoadingState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { useCommission } from "../commission";

/** The rep's statement so far for the current pay period (C4): total, credited, attainment. */
export function CommissionCard() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const commission = useCommission(user.id);
  const notOnPlan = <EmptyState title={t("day.commission.noPlan")} hint={t("day.commission.noPlanHint")} />;

  return (
    <Card
      title={t("day.commission.title")}
      subtitle={commission.period?.label}
      actions={
        <Link to="/statements" className="card-link">
          {t("day.commission.statement")}
        </Link>
      }
      className="card-commission"
    >
      <QueryView query={commission.assignments} isEmpty={() => !commission.assignment} empty={notOnPlan}>
        {() => (
          <QueryView query={commission.plan} isEmpty={() => !commission.version} empty={notOnPlan}>
            {() =>
              !commission.period ? (
                <LoadingState />
              ) : (
                <QueryView
                  query={commission.statement}
                  expected={(problem) =>
                    problem.reason === "NO_PLAN" || problem.reason === "NO_QUOTA" ? (
                      <EmptyState
                        title={t(problem.reason === "NO_PLAN" ? "day.commission.noPlan" : "day.commission.noQuota")}
                        hint={t(problem.reason === "NO_PLAN" ? "day.commission.noPlanHint" : "day.commission.noQuotaHint")}
                      />
                    ) : undefined
                  }
                >
                  {(answer) => {
                    const statement = answer.statement ?? {};
                    return (
                      <>
                        <div className="headline">
                          <p className="headline-label">{t("day.commission.total")}</p>
                          <p className="headline-value">{format.money(statement.total) || "—"}</p>
                          <p className="headline-meta">
                            {t(`enums.statementStatus.${statement.status ?? "STATEMENT_STATUS_UNSPECIFIED"}`)}
                            {" · "}
                            {commission.assignment?.plan_name}
                          </p>
                        </div>
                        <dl className="figures figures-2">
                          <div>
                            <dt>{t("day.commission.credited")}</dt>
                            <dd>{format.money(statement.credited) || "—"}</dd>
                          </div>
                          <div>
                            <dt>{t("day.commission.quota")}</dt>
                            <dd>{format.money(statement.quota) || "—"}</dd>
                          </div>
                          <div>
                            <dt>{t("day.commission.attainment")}</dt>
                            <dd>{format.percent(statement.attainment_percent) || "—"}</dd>
                          </div>
                          <div>
                            <dt>{t("day.commission.lines")}</dt>
                            <dd>{format.count(statement.lines?.length)}</dd>
                          </div>
                        </dl>
                      </>
                    );
                  }}
                </QueryView>
              )
            }
          </QueryView>
        )}
      </QueryView>
    </Card>
  );
}
