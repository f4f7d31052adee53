import { useTranslation } from "react-i18next";
import { useFormat } from "../../format/useFormat";
import { useUser } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { useOverdueTasks } from "../queries";
import { TaskDoneButton } from "../TaskDoneButton";

/** Open tasks already past due: what slipped, soonest due first. */
export function OverdueTasksCard() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const query = useOverdueTasks(user.id);
  return (
    <Card title={t("day.tasks.overdueTitle")} className="card-overdue">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.tasks ?? []).length === 0}
        empty={<EmptyState title={t("day.tasks.noneOverdue")} hint={t("day.tasks.noneOverdueHint")} />}
      >
        {(answer) => (
          <>
            <ul className="plain-list">
              {(answer.tasks ?? []).map((task) => (
                <li key={task.id} className="list-row">
                  <div className="list-row-main">
                    <span className="list-row-title">{task.title}</span>
                    <span className="list-row-note">{t("day.tasks.due", { when: format.dateTime(task.due_at) })}</span>
                  </div>
                  <TaskDoneButton taskId={task.id ?? ""} title={task.title ?? ""} />
                </li>
              ))}
            </ul>
            {answer.page?.next_page_token && <p className="card-footnote">{t("day.tasks.more")}</p>}
          </>
        )}
      </QueryView>
    </Card>
  );
}
