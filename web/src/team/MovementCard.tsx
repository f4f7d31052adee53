import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { FiscalPeriod } from "../fiscal/period";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

/** The two latest weekly snapshots' weeks, the earlier first; undefined while fewer exist. */
function latestTwo(snapshots: { week_start?: string }[]): [string, string] | undefined {
  const weeks = snapshots
    .map((snapshot) => snapshot.week_start ?? "")
    .filter(Boolean)
    .sort();
  const [earlier, later] = weeks.slice(-2);
  return earlier && later ? [earlier, later] : undefined;
}

/**
 * The week's movement (F5): what changed in the team's pipeline between the two latest weekly
 * snapshots — deals in and out, up and down, pulled in, pushed out, won and lost.
 */
export function MovementCard({ period, teamPath }: { period: FiscalPeriod | undefined; teamPath: string }) {
  const { t } = useTranslation();
  const api = useApi();
  // The organisation's snapshots (one a week): movement needs two.
  const snapshots = useQuery({
    queryKey: ["snapshots"],
    queryFn: () => data(api.GET("/v1/forecasting/snapshots", { params: { query: { "page.page_size": 60 } } })),
  });
  return (
    <Card title={t("team.movement.title")} subtitle={period?.label} className="card-movement">
      <QueryView query={snapshots}>
        {(answer) => {
          const weeks = latestTwo(answer.snapshots ?? []);
          if (!weeks || !period) {
            return <EmptyState title={t("team.movement.noSnapshots")} hint={t("team.movement.noSnapshotsHint")} />;
          }
          return <Movement period={period} teamPath={teamPath} weeks={weeks} />;
        }}
      </QueryView>
    </Card>
  );
}

function Movement({ period, teamPath, weeks }: { period: FiscalPeriod; teamPath: string; weeks: [string, string] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["movement", period.label, teamPath, ...weeks],
    queryFn: () =>
      data(
        api.GET("/v1/forecasting/snapshots:movement", {
          params: {
            query: { "scope.team_path": teamPath, period: period.label, from_week: weeks[0], to_week: weeks[1] },
          },
        }),
      ),
  });
  return (
    <QueryView
      query={query}
      isEmpty={(answer) => (answer.groups ?? []).every((group) => (group.deal_count ?? 0) === 0)}
      empty={<EmptyState title={t("team.movement.none")} />}
    >
      {(answer) => (
        <>
          <p className="muted">
            {t("team.movement.between", {
              from: answer.start?.snapshot?.week_label ?? "",
              to: answer.end?.snapshot?.week_label ?? "",
              before: format.money(answer.start?.total),
              after: format.money(answer.end?.total),
            })}
          </p>
          <ul className="plain-list">
            {(answer.groups ?? [])
              .filter((group) => (group.deal_count ?? 0) > 0)
              .map((group) => (
                <li key={group.kind} className="list-row">
                  <span className="list-row-main">
                    <span className="list-row-title">
                      {t(`enums.movementKind.${group.kind ?? "MOVEMENT_KIND_UNSPECIFIED"}`)}
                    </span>
                    <span className="list-row-note">
                      {(group.deals ?? [])
                        .slice(0, 3)
                        .map((deal) => deal.name)
                        .join(", ")}
                    </span>
                  </span>
                  <span className="badge">{t("team.movement.deals", { count: group.deal_count ?? 0 })}</span>
                  <span className="num">{format.money(group.change ?? group.amount)}</span>
                </li>
              ))}
          </ul>
        </>
      )}
    </QueryView>
  );
}
