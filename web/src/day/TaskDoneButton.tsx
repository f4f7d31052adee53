import { useTranslation } from "react-i18next";
import { ApiError } from "../api/problem";
import { problemDetail, problemTitle } from "../ui/problemText";
import { useCompleteTask } from "./useCompleteTask";

export function TaskDoneButton({ taskId, title }: { taskId: string; title: string }) {
  const { t, i18n } = useTranslation();
  const complete = useCompleteTask();
  const problem = complete.error instanceof ApiError ? complete.error.problem : undefined;
  return (
    <span className="task-done">
      <button
        type="button"
        className="button button-small button-secondary"
        onClick={() => complete.mutate(taskId)}
        disabled={complete.isPending}
        aria-label={t("day.tasks.markDoneLabel", { title })}
      >
        {complete.isPending ? t("day.tasks.marking") : t("day.tasks.markDone")}
      </button>
      {problem && (
        <span className="inline-error" role="alert">
          {problemDetail(i18n, problem) || problemTitle(i18n, problem)}
        </span>
      )}
    </span>
  );
}
