import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../../api/client";
import { ApiError, violationsByField } from "../../api/problem";
import { useFormat } from "../../format/useFormat";
import { useApi } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { Field } from "../../ui/Field";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { ProblemMessage } from "../../ui/ProblemMessage";

const KINDS = ["ACTIVITY_KIND_CALL", "ACTIVITY_KIND_MEETING", "ACTIVITY_KIND_VISIT", "ACTIVITY_KIND_EMAIL", "ACTIVITY_KIND_NOTE"] as const;
type Kind = (typeof KINDS)[number];
/** Meetings and visits have an end; the form asks how long they took. */
const TIMED: ReadonlySet<Kind> = new Set(["ACTIVITY_KIND_MEETING", "ACTIVITY_KIND_VISIT"]);

/** The deal's calls, meetings, visits and notes (A1), newest first, and logging one. */
export function ActivitiesCard({ dealId }: { dealId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["activities", "deal", dealId],
    queryFn: () =>
      data(
        api.GET("/v1/activities", {
          params: { query: { "regarding.opportunity_id": dealId, "page.page_size": 20 } },
        }),
      ),
  });
  return (
    <Card title={t("deals.activities")} className="card-activities">
      <LogActivityForm dealId={dealId} />
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.activities ?? []).length === 0}
        empty={<EmptyState title={t("deals.noActivities")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {[...(answer.activities ?? [])]
              .sort((a, b) => (b.starts_at ?? "").localeCompare(a.starts_at ?? ""))
              .map((activity) => (
                <li key={activity.id} className="list-row">
                  <div className="list-row-main">
                    <span className="list-row-title">{activity.subject}</span>
                    <span className="list-row-note">
                      {[activity.outcome, activity.notes].filter(Boolean).join(" · ")}
                    </span>
                  </div>
                  <span className="badge">{t(`enums.activityKind.${activity.kind ?? "ACTIVITY_KIND_UNSPECIFIED"}`)}</span>
                  <time dateTime={activity.starts_at}>{format.dateTime(activity.starts_at)}</time>
                </li>
              ))}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}

/** Log what just happened — on the road, a call is two fields and a tap. */
function LogActivityForm({ dealId }: { dealId: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("ACTIVITY_KIND_CALL");
  const [subject, setSubject] = useState("");
  const [outcome, setOutcome] = useState("");
  const [minutes, setMinutes] = useState("30");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const log = useMutation({
    mutationFn: () => {
      const startsAt = new Date();
      const ends = TIMED.has(kind) ? new Date(startsAt.getTime() + Number(minutes) * 60_000) : undefined;
      return data(
        api.POST("/v1/activities", {
          body: {
            // A caller-chosen id: a retried log is applied once.
            activity_id: globalThis.crypto.randomUUID(),
            regarding: { opportunity_id: dealId },
            activity: {
              kind,
              subject: subject.trim(),
              outcome: outcome.trim(),
              starts_at: startsAt.toISOString(),
              ...(ends ? { ends_at: ends.toISOString() } : {}),
            },
          },
        }),
      );
    },
    onSuccess: () => {
      setSubject("");
      setOutcome("");
      setErrors({});
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: ["activities"] }),
        queryClient.invalidateQueries({ queryKey: ["opportunity", dealId] }),
      ]);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const byField = violationsByField(error.problem);
      setErrors({ subject: byField["activity.subject"] ?? "", outcome: byField["activity.outcome"] ?? "" });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!subject.trim()) found.subject = t("deals.log.subjectRequired");
    if (TIMED.has(kind) && !(Number(minutes) > 0)) found.minutes = t("deals.log.minutesInvalid");
    setErrors(found);
    if (Object.keys(found).length === 0) log.mutate();
  }

  return (
    <form className="form log-form" onSubmit={submit} noValidate>
      <div className="form-row">
        <Field label={t("deals.log.subject")} error={errors.subject || undefined}>
          {(control) => (
            <input
              {...control}
              value={subject}
              maxLength={200}
              placeholder={t("deals.log.subjectPlaceholder")}
              onChange={(event) => setSubject(event.target.value)}
            />
          )}
        </Field>
        <Field label={t("deals.log.kind")}>
          {(control) => (
            <select {...control} value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
              {KINDS.map((known) => (
                <option key={known} value={known}>
                  {t(`enums.activityKind.${known}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label={t("deals.log.outcome")} error={errors.outcome || undefined}>
        {(control) => <input {...control} value={outcome} maxLength={1000} onChange={(event) => setOutcome(event.target.value)} />}
      </Field>
      {TIMED.has(kind) && (
        <Field label={t("deals.log.minutes")} error={errors.minutes || undefined}>
          {(control) => (
            <input {...control} inputMode="numeric" value={minutes} onChange={(event) => setMinutes(event.target.value)} />
          )}
        </Field>
      )}
      <ProblemMessage error={log.error} besideFields />
      {log.isSuccess && (
        <p className="notice" role="status">
          {t("deals.log.logged")}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={log.isPending}>
        {log.isPending ? t("deals.log.logging") : t("deals.log.submit")}
      </button>
    </form>
  );
}
