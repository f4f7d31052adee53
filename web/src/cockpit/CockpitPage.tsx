import { useTranslation } from "react-i18next";
import { ForecastCard } from "../day/cards/ForecastCard";
import { NumbersCard } from "../day/cards/NumbersCard";
import { useCurrentPeriod } from "../day/queries";
import { PageHeader } from "../ui/PageHeader";
import { BookingsByTeamCard } from "./BookingsByTeamCard";
import { WinsFeedCard } from "../wins/WinsFeedCard";
import { CoverageCard, TopDealsCard } from "./DealsCards";
import { TrendCard } from "./TrendCard";
import { useCockpitScope } from "./useScope";
import { useTeamNames } from "../team/useTeamNames";
import "../day/day.css";
import "./cockpit.css";

/**
 * The data cockpit (G4) for managers and executives: bookings against target by region and
 * team, the forecast by category, pipeline coverage, the attainment, win-rate and cycle trend,
 * the top open deals, and the latest wins.
 */
export function CockpitPage() {
  const { t } = useTranslation();
  const period = useCurrentPeriod("quarter");
  const teamName = useTeamNames();
  const scope = useCockpitScope();
  return (
    <div className="page">
      <PageHeader
        title={t("cockpit.title")}
        subtitle={[scope.company ? t("cockpit.company") : teamName(scope.teamPath), period?.label].filter(Boolean).join(" · ")}
      />
      <div className="day-grid cockpit-grid">
        <BookingsByTeamCard period={period} scope={scope} />
        <NumbersCard period={period} scope={scope} title={t("cockpit.bookings")} />
        <ForecastCard period={period} scope={scope} />
        <CoverageCard period={period} scope={scope} />
        <TrendCard period={period} scope={scope} />
        <TopDealsCard period={period} scope={scope} />
        <WinsFeedCard />
      </div>
    </div>
  );
}
