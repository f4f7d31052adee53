import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";

/** The team's training (K5): each rep's courses, onboarding first, with lessons done. */
export function TrainingCard({ teamPath }: { teamPath: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const query = useQuery({
    queryKey: ["training", "team", teamPath],
    queryFn: () => data(api.GET("/v1/knowledge/training/team", { params: { query: { team_path: teamPath } } })),
  });
  return (
    <Card title={t("team.training.title")} className="card-training">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.enrollments ?? []).length === 0}
        empty={<EmptyState title={t("team.training.empty")} hint={t("team.training.emptyHint")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {[...(answer.enrollments ?? [])]
              .sort((a, b) => Number(b.onboarding ?? false) - Number(a.onboarding ?? false))
              .map((enrollment) => (
                <li key={`${enrollment.user_id}-${enrollment.course_id}`} className="list-row">
                  <span className="list-row-main">
                    <span className="list-row-title">{enrollment.display_name}</span>
                    <span className="list-row-note">
                      {enrollment.course_title}
                      {enrollment.onboarding && ` · ${t("team.training.onboarding")}`}
                    </span>
                  </span>
                  <span className="badge">
                    {t("team.training.lessons", {
                      done: enrollment.completed_lessons ?? 0,
                      total: enrollment.total_lessons ?? 0,
                    })}
                  </span>
                  <div
                    className="progress training-progress"
                    role="progressbar"
                    aria-label={t("team.training.progressLabel", { name: enrollment.display_name, course: enrollment.course_title })}
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={enrollment.percent ?? 0}
                  >
                    <div className="progress-fill" style={{ width: `${enrollment.percent ?? 0}%` }} />
                  </div>
                </li>
              ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
