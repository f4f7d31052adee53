// "My commission so far": the statement of the rep's current pay period. The statement call
// needs that period's label, and which kind of period (month, quarter, fiscal year) depends on
// the plan the rep is on today — so: assignments → today's plan → its version in force → the
// period of that kind holding today → the statement.
import { useQuery } from "@tanstack/react-query";
import { data } from "../api/client";
import type { PlanPeriod } from "../api/types";
import { localDay } from "../format/date";
import { calendarOf, periodOf, type PeriodKind } from "../fiscal/period";
import { useApi } from "../session/SessionContext";
import { useOrgSettings } from "./queries";

const KINDS: Partial<Record<PlanPeriod, PeriodKind>> = {
  PLAN_PERIOD_MONTH: "month",
  PLAN_PERIOD_QUARTER: "quarter",
  PLAN_PERIOD_FISCAL_YEAR: "year",
};

/** Whether `[from, until)` holds `today` (ISO days compare as text; empty until: open-ended). */
function holds(from: unknown, until: unknown, today: string): boolean {
  const start = typeof from === "string" ? from : "";
  const end = typeof until === "string" ? until : "";
  return start !== "" && start <= today && (end === "" || today < end);
}

export function useCommission(userId: string | undefined) {
  const api = useApi();
  const today = localDay();
  const settings = useOrgSettings();

  const assignments = useQuery({
    queryKey: ["compensation", "assignments", userId],
    queryFn: () => data(api.GET("/v1/compensation/assignments", { params: { query: { user_id: userId } } })),
    enabled: userId !== undefined,
  });
  const assignment = assignments.data?.assignments?.find((item) => holds(item.from, item.until, today));

  const plan = useQuery({
    queryKey: ["compensation", "plan", assignment?.plan_id],
    queryFn: () =>
      data(api.GET("/v1/compensation/plans/{plan_id}", { params: { path: { plan_id: assignment!.plan_id! } } })),
    enabled: Boolean(assignment?.plan_id),
  });
  const version = plan.data?.plan?.versions?.find((item) => holds(item.effective_from, item.effective_until, today));
  const kind = version ? KINDS[version.period] : undefined;
  const period = kind && settings.data ? periodOf(calendarOf(settings.data.settings), kind, new Date()) : undefined;

  const statement = useQuery({
    queryKey: ["compensation", "statement", period?.label],
    queryFn: () => data(api.GET("/v1/compensation/statements", { params: { query: { period: period!.label } } })),
    enabled: period !== undefined,
  });

  return { assignments, assignment, plan, version, period, statement };
}
