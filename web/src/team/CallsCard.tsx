import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data, idempotencyKey } from "../api/client";
import { ApiError, violationsByField } from "../api/problem";
import type { Money, TeamCallLevel } from "../api/types";
import type { FiscalPeriod } from "../fiscal/period";
import { isDecimal } from "../format/decimal";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { Field } from "../ui/Field";
import { QueryView } from "../ui/QueryView";
import { usePeople } from "./usePeople";
import { useTeamNames } from "./useTeamNames";
import { TableScroll } from "../ui/TableScroll";
import { ProblemMessage } from "../ui/ProblemMessage";

const NUMBERS = ["commit", "best_case", "pipeline"] as const;
type NumberName = (typeof NUMBERS)[number];
type Numbers = Partial<Record<NumberName, Money>>;

function useCallRollUp(period: FiscalPeriod | undefined, teamPath: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["forecastCalls", "rollUp", period?.label, teamPath],
    queryFn: () =>
      data(api.GET("/v1/forecasting/calls:rollUp", { params: { query: { period: period!.label, team_path: teamPath } } })),
    enabled: period !== undefined,
  });
}

/**
 * Forecast calls (F4): each rep's current call, what they add up to, and the manager's own
 * call for the team — the roll-up with an adjustment and a note, submitted from here.
 */
export function CallsCard({ period, teamPath }: { period: FiscalPeriod | undefined; teamPath: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const nameOf = usePeople();
  const teamName = useTeamNames();
  const query = useCallRollUp(period, teamPath);
  const cells = (numbers: Numbers | undefined) =>
    NUMBERS.map((name) => (
      <td key={name} className="num">
        {format.money(numbers?.[name]) || "—"}
      </td>
    ));
  const submitted = (call: { submitted_at?: string } | undefined) =>
    call ? format.dateTime(call.submitted_at) : t("team.calls.none");
  // The level's own reps, then each sub-team — its number, then its reps and sub-teams, indented.
  const levelRows = (level: TeamCallLevel, depth: number): ReactNode[] => [
    ...(level.reps ?? []).map((rep) => (
      <tr key={rep.user_id}>
        <th scope="row" className={`indent-${depth}`}>
          {nameOf(rep.user_id)}
        </th>
        {cells(rep.current_call?.numbers)}
        <td>{submitted(rep.current_call)}</td>
      </tr>
    )),
    ...(level.sub_teams ?? []).flatMap((sub) => [
      <tr key={sub.team_path} className="row-group">
        <th scope="row" className={`indent-${depth}`}>
          {teamName(sub.team_path)}
        </th>
        {cells(sub.number)}
        <td>{submitted(sub.current_call)}</td>
      </tr>,
      ...levelRows(sub, depth + 1),
    ]),
  ];
  return (
    <Card title={t("team.calls.title")} subtitle={period?.label} className="card-calls">
      <QueryView query={query}>
        {(answer) => {
          const team = answer.team ?? {};
          return (
            <>
              <TableScroll label={t("team.calls.title")}>
                <table className="table">
                  <caption className="visually-hidden">{t("team.calls.title")}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t("team.rep")}</th>
                      {NUMBERS.map((name) => (
                        <th key={name} scope="col" className="num">
                          {t(`team.calls.${name}`)}
                        </th>
                      ))}
                      <th scope="col">{t("team.calls.submitted")}</th>
                    </tr>
                  </thead>
                  <tbody>{levelRows(team, 0)}</tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">{t("team.calls.below")}</th>
                      {cells(team.below)}
                      <td>{(team.reps_without_call ?? 0) > 0 && t("team.calls.missing", { count: team.reps_without_call })}</td>
                    </tr>
                    <tr className="row-strong">
                      <th scope="row">{t("team.calls.teamCall")}</th>
                      {cells(team.current_call?.numbers)}
                      <td>
                        {team.current_call
                          ? `${format.dateTime(team.current_call.submitted_at)}${team.current_call.note ? ` · ${team.current_call.note}` : ""}`
                          : t("team.calls.none")}
                      </td>
                    </tr>
                  </tfoot>
                </table>
              </TableScroll>
              {period && (
                <SubmitCallForm
                  period={period}
                  teamPath={teamPath}
                  currency={answer.currency_code ?? ""}
                  current={team.current_call?.adjustment}
                />
              )}
            </>
          );
        }}
      </QueryView>
    </Card>
  );
}

function amountOf(money: Money | undefined): string {
  const amount: unknown = money?.amount;
  return typeof amount === "string" ? amount : "0";
}

/** The manager's call: the roll-up below plus an adjustment per number (negative takes away). */
function SubmitCallForm({
  period,
  teamPath,
  currency,
  current,
}: {
  period: FiscalPeriod;
  teamPath: string;
  currency: string;
  current: Numbers | undefined;
}) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Record<NumberName, string>>(() => ({
    commit: amountOf(current?.commit),
    best_case: amountOf(current?.best_case),
    pipeline: amountOf(current?.pipeline),
  }));
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = useMutation({
    mutationFn: () =>
      data(
        api.POST("/v1/forecasting/calls", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            period: period.label,
            team_path: teamPath,
            note,
            adjustment: Object.fromEntries(
              NUMBERS.map((name) => [name, { amount: values[name].trim(), currency_code: currency }]),
              // The currency is the roll-up's own; the service checks it.
            ) as Record<NumberName, Money>,
          },
        }),
      ),
    onSuccess: () => {
      setErrors({});
      return queryClient.invalidateQueries({ queryKey: ["forecastCalls"] });
    },
    onError: (error) => {
      if (error instanceof ApiError) {
        const byField = violationsByField(error.problem);
        setErrors(Object.fromEntries(NUMBERS.map((name) => [name, byField[`adjustment.${name}.amount`] ?? byField[`adjustment.${name}`] ?? ""])));
      }
    },
  });

  function send(event: FormEvent) {
    event.preventDefault();
    const found = Object.fromEntries(
      NUMBERS.filter((name) => !isDecimal(values[name])).map((name) => [name, t("team.calls.amountInvalid")]),
    );
    setErrors(found);
    if (Object.keys(found).length === 0) submit.mutate();
  }

  return (
    <form className="form call-form" onSubmit={send} noValidate>
      <h3 className="card-section">{t("team.calls.yourCall")}</h3>
      <p className="muted">{t("team.calls.adjustHint", { currency })}</p>
      <div className="call-fields">
        {NUMBERS.map((name) => (
          <Field key={name} label={t("team.calls.adjust", { number: t(`team.calls.${name}`) })} error={errors[name] || undefined}>
            {(control) => (
              <input
                {...control}
                inputMode="decimal"
                value={values[name]}
                onChange={(event) => setValues({ ...values, [name]: event.target.value })}
              />
            )}
          </Field>
        ))}
      </div>
      <Field label={t("team.calls.note")}>
        {(control) => <input {...control} value={note} maxLength={1000} onChange={(event) => setNote(event.target.value)} />}
      </Field>
      <ProblemMessage error={submit.error} besideFields />
      {submit.isSuccess && (
        <p className="notice" role="status">
          {t("team.calls.submittedNow")}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={submit.isPending}>
        {submit.isPending ? t("team.calls.submitting") : t("team.calls.submit")}
      </button>
    </form>
  );
}
