import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Enrollment } from "../../api/types";
import { useUser } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { useMyTraining } from "../queries";

function Course({ enrollment }: { enrollment: Enrollment }) {
  const { t } = useTranslation();
  const next = enrollment.lessons?.find((lesson) => !lesson.completed_at);
  return (
    <li className="course">
      <div className="course-head">
        <span className="list-row-title">{enrollment.course_title}</span>
        <span className="list-row-note">
          {t("day.training.progress", {
            done: enrollment.completed_lessons ?? 0,
            total: enrollment.total_lessons ?? 0,
            percent: enrollment.percent ?? 0,
          })}
        </span>
      </div>
      <div className="progress" role="img" aria-label={t("day.training.percentLabel", { percent: enrollment.percent ?? 0 })}>
        <div className="progress-fill" style={{ width: `${enrollment.percent ?? 0}%` }} />
      </div>
      {next ? (
        <p className="course-next">
          {t("day.training.next")}{" "}
          <Link to={`/knowledge/articles/${next.article_id ?? ""}`}>{next.title}</Link>
        </p>
      ) : (
        <p className="course-next">{t("day.training.complete")}</p>
      )}
    </li>
  );
}

/**
 * The onboarding track (K6) for a new rep: shown while the rep is in the "new" stage or has an
 * unfinished course; an established rep with nothing to learn gets no card at all.
 */
export function OnboardingCard() {
  const { t } = useTranslation();
  const user = useUser();
  const query = useMyTraining();
  const isNew = user.stage === "LIFECYCLE_STAGE_NEW";
  const open = (query.data?.enrollments ?? []).filter((enrollment) => !enrollment.completed_at);
  if (query.isSuccess && !isNew && open.length === 0) return null;

  return (
    <Card title={t("day.training.title")} className="card-training">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.enrollments ?? []).length === 0}
        empty={<EmptyState title={t("day.training.empty")} hint={t("day.training.emptyHint")} />}
      >
        {(answer) => {
          // Onboarding first, then the courses a manager gave; unfinished before finished.
          const courses = [...(answer.enrollments ?? [])].sort(
            (a, b) => Number(Boolean(a.completed_at)) - Number(Boolean(b.completed_at)) || Number(Boolean(b.onboarding)) - Number(Boolean(a.onboarding)),
          );
          return (
            <ul className="plain-list">
              {courses.map((enrollment) => (
                <Course key={enrollment.course_id} enrollment={enrollment} />
              ))}
            </ul>
          );
        }}
      </QueryView>
    </Card>
  );
}
