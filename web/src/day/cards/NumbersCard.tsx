import { useTranslation } from "react-i18next";
import type { KindAttainment, TargetValue } from "../../api/types";
import type { FiscalPeriod } from "../../fiscal/period";
import { barPercent } from "../../format/decimal";
import { useFormat } from "../../format/useFormat";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { TableScroll } from "../../ui/TableScroll";
import { type ForecastScope, useAttainment } from "../queries";

type Format = ReturnType<typeof useFormat>;

/** A target's or actual's figure: money for the money kinds, a plain decimal for the rest. */
function figure(value: TargetValue | undefined, format: Format): string {
  if (!value) return "";
  if ("amount" in value && value.amount) return format.money(value.amount);
  if ("value" in value && typeof value.value === "string") return format.decimal(value.value);
  return "";
}

function Progress({ percent, label }: { percent: string | undefined; label: string }) {
  return (
    <div className="progress" role="img" aria-label={label}>
      <div className="progress-fill" style={{ width: `${barPercent(percent)}%` }} />
    </div>
  );
}

/**
 * The rep's numbers against target for the period (F3): revenue first, then activity; with
 * `scope`, a team's or the company's.
 */
export function NumbersCard({
  period,
  scope,
  title,
}: {
  period: FiscalPeriod | undefined;
  scope?: ForecastScope;
  title?: string;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const query = useAttainment(period, scope);
  const kindLabel = (kind: KindAttainment["kind"]) => t(`enums.targetKind.${kind ?? "TARGET_KIND_UNSPECIFIED"}`);

  return (
    <Card title={title ?? t("day.numbers.title")} subtitle={period?.label} className="card-numbers">
      <QueryView query={query}>
        {(answer) => {
          const kinds = answer.kinds ?? [];
          const revenue = kinds.find((kind) => kind.kind === "TARGET_KIND_REVENUE");
          const others = kinds.filter((kind) => kind.kind !== "TARGET_KIND_REVENUE" && (kind.target || kind.actual));
          const anyTarget = kinds.some((kind) => kind.target);
          return (
            <>
              {revenue && (
                <div className="headline">
                  <p className="headline-label">{t("day.numbers.bookedRevenue")}</p>
                  <p className="headline-value">{figure(revenue.actual, format) || "—"}</p>
                  {revenue.target ? (
                    <>
                      <p className="headline-meta">
                        {t("day.numbers.ofTarget", { target: figure(revenue.target, format) })}
                        {revenue.attainment_percent && (
                          <strong className="headline-percent">{format.percent(revenue.attainment_percent)}</strong>
                        )}
                      </p>
                      <Progress
                        percent={revenue.attainment_percent}
                        label={t("day.numbers.attainmentLabel", {
                          percent: format.percent(revenue.attainment_percent) || "—",
                        })}
                      />
                    </>
                  ) : (
                    <p className="headline-meta">{t("day.numbers.noRevenueTarget")}</p>
                  )}
                </div>
              )}
              {others.length > 0 && (
                <TableScroll label={t("day.numbers.otherTargets")}>
                  <table className="table table-compact">
                    <caption className="visually-hidden">{t("day.numbers.otherTargets")}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t("day.numbers.kind")}</th>
                        <th scope="col" className="num">{t("day.numbers.actual")}</th>
                        <th scope="col" className="num">{t("day.numbers.target")}</th>
                        <th scope="col" className="num">{t("day.numbers.attainment")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {others.map((kind) => (
                        <tr key={kind.kind}>
                          <th scope="row">{kindLabel(kind.kind)}</th>
                          <td className="num">{figure(kind.actual, format) || "—"}</td>
                          <td className="num">{figure(kind.target, format) || "—"}</td>
                          <td className="num">{format.percent(kind.attainment_percent) || "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
              )}
              {!anyTarget && <EmptyState title={t("day.numbers.noTargets")} hint={t("day.numbers.noTargetsHint")} />}
              {answer.days_counted ? (
                <p className="card-footnote">{t("day.numbers.daysCounted", { count: answer.days_counted })}</p>
              ) : null}
            </>
          );
        }}
      </QueryView>
    </Card>
  );
}
