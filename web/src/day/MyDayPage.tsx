import { useId } from "react";
import { useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { PeriodKind } from "../fiscal/period";
import { localDay } from "../format/date";
import { useFormat } from "../format/useFormat";
import { useUser } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { QueryView } from "../ui/QueryView";
import { AgendaCard } from "./cards/AgendaCard";
import { CommissionCard } from "./cards/CommissionCard";
import { ForecastCard } from "./cards/ForecastCard";
import { FunnelCard } from "./cards/FunnelCard";
import { LeadsWaitingCard } from "./cards/LeadsWaitingCard";
import { NumbersCard } from "./cards/NumbersCard";
import { OnboardingCard } from "./cards/OnboardingCard";
import { OverdueTasksCard } from "./cards/OverdueTasksCard";
import { PriorityBoardCard } from "./cards/PriorityBoardCard";
import { StaleDealsCard } from "./cards/StaleDealsCard";
import { WinsFeedCard } from "../wins/WinsFeedCard";
import { useCurrentPeriod, useOrgSettings } from "./queries";
import "./day.css";

const KINDS: readonly PeriodKind[] = ["month", "quarter", "year"];

function PeriodPicker({ kind, onChange }: { kind: PeriodKind; onChange: (kind: PeriodKind) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="period-picker">
      <label htmlFor={id}>{t("day.period.label")}</label>
      <select id={id} value={kind} onChange={(event) => onChange(event.target.value as PeriodKind)}>
        {KINDS.map((value) => (
          <option key={value} value={value}>
            {t(`day.period.${value}`)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** G5 "my day": the rep's numbers, priorities, agenda, leads, pay and training on one page. */
export function MyDayPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const kind = KINDS.find((value) => value === params.get("period")) ?? "quarter";
  const settings = useOrgSettings();
  const period = useCurrentPeriod(kind);
  const today = format.day(localDay());

  return (
    <div className="page page-day">
      <header className="page-header">
        <div>
          <h1 className="page-title">{t("day.greeting", { name: user.display_name })}</h1>
          <p className="page-subtitle">{today}</p>
        </div>
        <PeriodPicker
          kind={kind}
          onChange={(next) =>
            setParams(
              (current) => {
                current.set("period", next);
                return current;
              },
              { replace: true },
            )
          }
        />
      </header>
      <div className="day-grid">
        {settings.isError ? (
          <Card title={t("day.numbers.title")} className="card-numbers">
            <QueryView query={settings}>{() => null}</QueryView>
          </Card>
        ) : (
          <>
            <NumbersCard period={period} />
            <ForecastCard period={period} />
          </>
        )}
        <PriorityBoardCard />
        <AgendaCard />
        <OverdueTasksCard />
        <StaleDealsCard />
        <LeadsWaitingCard />
        <CommissionCard />
        <OnboardingCard />
        <WinsFeedCard />
        {!settings.isError && <FunnelCard period={period} />}
      </div>
    </div>
  );
}
