import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../../api/client";
import { useFormat } from "../../format/useFormat";
import { useApi } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { DetailList } from "../../ui/DetailList";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";

/** A won deal's payment schedule (D5): each instalment due, what is paid and what is open. */
export function PaymentsCard({ dealId }: { dealId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["opportunity", dealId, "paymentSchedule"],
    queryFn: () =>
      data(api.GET("/v1/opportunities/{opportunity_id}/paymentSchedule", { params: { path: { opportunity_id: dealId } } })),
  });
  const none = <EmptyState title={t("deals.noSchedule")} />;
  return (
    <Card title={t("deals.payments")}>
      <QueryView query={query} expected={(problem) => (problem.status === 404 ? none : undefined)} isEmpty={(answer) => !answer.schedule} empty={none}>
        {({ schedule = {} }) => (
          <>
            <DetailList
              items={[
                [t("deals.scheduleTotal"), format.money(schedule.totals?.total)],
                [t("deals.schedulePaid"), format.money(schedule.totals?.paid)],
                [t("deals.scheduleOpen"), format.money(schedule.totals?.open)],
              ]}
            />
            <ul className="plain-list">
              {(schedule.instalments ?? []).map((instalment) => (
                <li key={instalment.number} className="list-row">
                  <div className="list-row-main">
                    <span className="list-row-title">
                      {t("deals.instalment", { number: instalment.number ?? 0, date: format.day(instalment.due_date) })}
                    </span>
                    <span className="list-row-note">{instalment.note}</span>
                  </div>
                  <span className="num">{format.money(instalment.amount)}</span>
                  <span className="badge">{t(`enums.instalmentStatus.${instalment.status ?? "INSTALMENT_STATUS_UNSPECIFIED"}`)}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </QueryView>
    </Card>
  );
}
