import type { ForecastScope } from "../day/queries";
import { useUser } from "../session/SessionContext";

/** The cockpit's scope: an admin's is the company, a manager's their team subtree. */
export function useCockpitScope(): ForecastScope & { teamPath: string } {
  const user = useUser();
  return user.role === "ROLE_ADMIN" ? { teamPath: "", company: true } : { teamPath: user.team_path ?? "" };
}
