import { useTranslation } from "react-i18next";
import { ProblemMessage } from "../ui/ProblemMessage";
import { useCompleteTask } from "./useCompleteTask";

export function TaskDoneButton({ taskId, title }: { taskId: string; title: string }) {
  const { t } = useTranslation();
  const complete = useCompleteTask();
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
      <ProblemMessage error={complete.error} inline />
    </span>
  );
}
