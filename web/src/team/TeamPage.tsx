import { useTranslation } from "react-i18next";
import { ForecastCard } from "../day/cards/ForecastCard";
import { NumbersCard } from "../day/cards/NumbersCard";
import { useCurrentPeriod } from "../day/queries";
import { useUser } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { ApprovalsCard } from "./ApprovalsCard";
import { AttentionCard } from "./AttentionCard";
import { CallsCard } from "./CallsCard";
import { LeaderboardCard } from "./LeaderboardCard";
import { MovementCard } from "./MovementCard";
import { RepFunnelCard } from "./RepFunnelCard";
import { TrainingCard } from "./TrainingCard";
import { useTeamNames } from "./useTeamNames";
import "../day/day.css";
import "./team.css";

/**
 * My team, for a manager (G5): the team's numbers and forecast against quota for the quarter,
 * the calls and the manager's own, the week's movement, the leaderboard, the discounts waiting
 * for approval, each rep's funnel against the average, the deals needing attention and the
 * training under way.
 */
export function TeamPage() {
  const { t } = useTranslation();
  const user = useUser();
  const period = useCurrentPeriod("quarter");
  const teamName = useTeamNames();
  const teamPath = user.team_path ?? "";
  return (
    <div className="page">
      <PageHeader title={t("team.pageTitle")} subtitle={[teamName(teamPath), period?.label].filter(Boolean).join(" · ")} />
      <div className="day-grid team-grid">
        <NumbersCard period={period} scope={{ teamPath }} title={t("team.numbers")} />
        <ForecastCard period={period} scope={{ teamPath }} />
        <CallsCard period={period} teamPath={teamPath} />
        <LeaderboardCard period={period} teamPath={teamPath} />
        <MovementCard period={period} teamPath={teamPath} />
        <ApprovalsCard />
        <AttentionCard teamPath={teamPath} />
        <RepFunnelCard period={period} teamPath={teamPath} />
        <TrainingCard teamPath={teamPath} />
      </div>
    </div>
  );
}
