import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { CalendarEntry } from "../../api/types";
import { useFormat } from "../../format/useFormat";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { useTodayCalendar } from "../queries";
import { TaskDoneButton } from "../TaskDoneButton";

/** Where an entry leads: the deal, account or lead it is about. */
function regardingLink(entry: CalendarEntry): string | undefined {
  const regarding = entry.activity?.regarding ?? entry.task?.regarding;
  const id = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  if (id(regarding?.opportunity_id)) return `/opportunities/${id(regarding?.opportunity_id)}`;
  if (id(regarding?.account_id)) return `/accounts/${id(regarding?.account_id)}`;
  if (id(regarding?.lead_id)) return `/leads/${id(regarding?.lead_id)}`;
  return undefined;
}

/** Today's meetings, calls and visits, and the tasks due today (O7), in the reader's zone. */
export function AgendaCard() {
  const { t } = useTranslation();
  const format = useFormat();
  const query = useTodayCalendar();
  return (
    <Card title={t("day.agenda.title")} subtitle={format.day(query.data?.first_day)} className="card-agenda">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.entries ?? []).length === 0}
        empty={<EmptyState title={t("day.agenda.empty")} hint={t("day.agenda.emptyHint")} />}
      >
        {(answer) => (
          <ul className="agenda">
            {(answer.entries ?? []).map((entry) => {
              const key = entry.activity?.id ?? entry.task?.id;
              const link = regardingLink(entry);
              const time = format.time(entry.starts_at, answer.time_zone);
              const end = entry.ends_at ? format.time(entry.ends_at, answer.time_zone) : "";
              if (entry.task) {
                const task = entry.task;
                return (
                  <li key={key} className={`agenda-item agenda-task${task.completed ? " agenda-done" : ""}`}>
                    <span className="agenda-time">{time}</span>
                    <span className="agenda-kind">{t("day.agenda.task")}</span>
                    <span className="agenda-subject">
                      {link ? <Link to={link}>{task.title}</Link> : task.title}
                    </span>
                    {task.completed ? (
                      <span className="badge">{t("day.tasks.done")}</span>
                    ) : (
                      <TaskDoneButton taskId={task.id ?? ""} title={task.title ?? ""} />
                    )}
                  </li>
                );
              }
              const activity = entry.activity;
              return (
                <li key={key} className="agenda-item">
                  <span className="agenda-time">{end ? `${time}–${end}` : time}</span>
                  <span className="agenda-kind">{t(`enums.activityKind.${activity?.kind ?? "ACTIVITY_KIND_UNSPECIFIED"}`)}</span>
                  <span className="agenda-subject">
                    {link ? <Link to={link}>{activity?.subject}</Link> : activity?.subject}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
