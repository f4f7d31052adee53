// The calls behind "My day", one hook per card. Each card asks only for its own data, so one
// slow or failing service leaves the other cards working.
import { useQuery } from "@tanstack/react-query";
import { data } from "../api/client";
import type { Pipeline } from "../api/types";
import { localDay, readerTimeZone } from "../format/date";
import { calendarOf, periodOf, type FiscalPeriod, type PeriodKind } from "../fiscal/period";
import { useApi } from "../session/SessionContext";

/** OrgSettings: the fiscal calendar every period label is counted in. */
export function useOrgSettings() {
  const api = useApi();
  return useQuery({
    queryKey: ["orgSettings"],
    queryFn: () => data(api.GET("/v1/orgSettings")),
    staleTime: 10 * 60_000,
  });
}

/** Today's fiscal period of `kind`, once the organisation's calendar is known. */
export function useCurrentPeriod(kind: PeriodKind): FiscalPeriod | undefined {
  const settings = useOrgSettings();
  if (!settings.data) return undefined;
  return periodOf(calendarOf(settings.data.settings), kind, new Date());
}

/** Whose figures: the caller's own (none given), a team subtree's, or the company's. */
export interface ForecastScope {
  teamPath?: string;
  company?: boolean;
}

export function scopeQuery(scope: ForecastScope | undefined) {
  if (scope?.company) return { "scope.company": true };
  return scope?.teamPath ? { "scope.team_path": scope.teamPath } : {};
}

function scopeKey(scope: ForecastScope | undefined): string {
  return scope?.company ? "company" : (scope?.teamPath ?? "");
}

export function useAttainment(period: FiscalPeriod | undefined, scope?: ForecastScope) {
  const api = useApi();
  return useQuery({
    queryKey: ["attainment", period?.label, scopeKey(scope)],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/attainment", { params: { query: { period: period!.label, ...scopeQuery(scope) } } }),
      ),
    enabled: period !== undefined,
  });
}

export function usePipelineForecast(period: FiscalPeriod | undefined, scope?: ForecastScope) {
  const api = useApi();
  return useQuery({
    queryKey: ["pipelineForecast", period?.label, scopeKey(scope)],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/pipeline", { params: { query: { period: period!.label, ...scopeQuery(scope) } } }),
      ),
    enabled: period !== undefined,
  });
}

/** The caller's open deals by priority. 500 is the most the call gives: every deal of a rep. */
export const BOARD_LIMIT = 500;

export function usePriorityBoard() {
  const api = useApi();
  return useQuery({
    queryKey: ["priorityBoard", BOARD_LIMIT],
    queryFn: () => data(api.GET("/v1/priorityBoard", { params: { query: { limit: BOARD_LIMIT } } })),
  });
}

/** Today's meetings, calls and tasks due, in the reader's own time zone. */
export function useTodayCalendar() {
  const api = useApi();
  const date = localDay();
  const timeZone = readerTimeZone();
  return useQuery({
    queryKey: ["calendar", "day", date, timeZone],
    queryFn: () =>
      data(api.GET("/v1/calendar", { params: { query: { view: "CALENDAR_VIEW_DAY", date, time_zone: timeZone } } })),
  });
}

export function useOverdueTasks(userId: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ["tasks", "overdue", userId],
    queryFn: () =>
      data(
        api.GET("/v1/tasks", {
          params: { query: { state: "TASK_STATE_OVERDUE", assignee_id: userId, "page.page_size": 20 } },
        }),
      ),
    enabled: userId !== undefined,
  });
}

/** Claimable leads of the pools the caller sees, best score first. */
export function useLeadPool(limit: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["leads", "pool", limit],
    queryFn: () =>
      data(
        api.GET("/v1/leads", {
          params: {
            query: {
              in_pool: true,
              sort_by: "LEAD_SORT_FIELD_SCORE",
              sort_direction: "SORT_DIRECTION_DESCENDING",
              "page.page_size": limit,
            },
          },
        }),
      ),
  });
}

/** Leads assigned to the caller and not yet worked (status assigned). */
export function useNewLeads(userId: string | undefined, limit: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["leads", "assigned", userId, limit],
    queryFn: () =>
      data(
        api.GET("/v1/leads", {
          params: {
            query: {
              owner_id: userId,
              status: "LEAD_STATUS_ASSIGNED",
              sort_by: "LEAD_SORT_FIELD_SCORE",
              sort_direction: "SORT_DIRECTION_DESCENDING",
              "page.page_size": limit,
            },
          },
        }),
      ),
    enabled: userId !== undefined,
  });
}

export function useMyTraining() {
  const api = useApi();
  return useQuery({
    queryKey: ["training", "mine"],
    queryFn: () => data(api.GET("/v1/knowledge/training/mine")),
  });
}

/** The default pipeline (the funnel is per pipeline): ListPipelines lists it first. */
export function useDefaultPipeline() {
  const api = useApi();
  return useQuery({
    queryKey: ["pipelines"],
    queryFn: () => data(api.GET("/v1/pipelines")),
    staleTime: 10 * 60_000,
    select: (answer): Pipeline | null =>
      answer.pipelines?.find((pipeline) => pipeline.is_default) ?? answer.pipelines?.[0] ?? null,
  });
}

export function useFunnel(pipelineId: string | undefined, period: FiscalPeriod | undefined, ownerId: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ["funnel", pipelineId, period?.fromMonth, period?.toMonth, ownerId],
    queryFn: () =>
      data(
        api.GET("/v1/funnel", {
          params: {
            query: {
              pipeline_id: pipelineId!,
              "period.from_month": period!.fromMonth,
              "period.to_month": period!.toMonth,
              "scope.owner_id": ownerId,
            },
          },
        }),
      ),
    enabled: pipelineId !== undefined && period !== undefined && ownerId !== undefined,
  });
}
