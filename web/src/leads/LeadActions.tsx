import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { ApiError, violationsByField } from "../api/problem";
import type { Lead } from "../api/types";
import { useOrgSettings } from "../day/queries";
import { localDay } from "../format/date";
import { isDecimal } from "../format/decimal";
import { useUser } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { Field } from "../ui/Field";
import { leadName } from "./leadName";
import { useConvertLead, useLeadCommand, type LeadCommand } from "./useLeadCommands";
import { ProblemMessage } from "../ui/ProblemMessage";

const WORKABLE = new Set(["LEAD_STATUS_NEW", "LEAD_STATUS_ASSIGNED", "LEAD_STATUS_WORKING"]);

/** What the caller can do with the lead next, as its status and owner allow (L3–L6). */
export function LeadActions({ lead }: { lead: Lead }) {
  const { t } = useTranslation();
  const user = useUser();
  const status = lead.status ?? "LEAD_STATUS_UNSPECIFIED";
  const mine = lead.owner_id === user.id;
  const manages = user.role === "ROLE_MANAGER" || user.role === "ROLE_ADMIN";

  if (status === "LEAD_STATUS_CONVERTED") {
    return (
      <Card title={t("leads.next")}>
        <p>{t("leads.converted")}</p>
        <p className="refusal-actions">
          {lead.converted_opportunity_id && (
            <Link to={`/opportunities/${lead.converted_opportunity_id}`}>{t("leads.openDeal")}</Link>
          )}
          {lead.converted_account_id && (
            <Link to={`/accounts/${lead.converted_account_id}`}>{t("leads.openAccount")}</Link>
          )}
        </p>
      </Card>
    );
  }
  if (!lead.owner_id && WORKABLE.has(status)) {
    return (
      <Card title={t("leads.next")} subtitle={t("leads.inPool", { pool: lead.pool_team_path ?? "" })}>
        <CommandButton lead={lead} command="claim" primary />
      </Card>
    );
  }
  if (!mine && !manages) return null;
  if (WORKABLE.has(status)) {
    return (
      <Card title={t("leads.next")} subtitle={t("leads.qualifyHint")}>
        <div className="toolbar">
          <CommandButton lead={lead} command="qualify" primary />
          {mine && <CommandButton lead={lead} command="release" />}
        </div>
      </Card>
    );
  }
  if (status === "LEAD_STATUS_QUALIFIED") return <ConvertForm lead={lead} />;
  return null;
}

function CommandButton({ lead, command, primary }: { lead: Lead; command: LeadCommand; primary?: boolean }) {
  const { t } = useTranslation();
  const run = useLeadCommand(command);
  return (
    <>
      <button
        type="button"
        className={`button ${primary ? "button-primary" : "button-secondary"}`}
        disabled={run.isPending}
        onClick={() => run.mutate(lead.id ?? "")}
      >
        {run.isPending ? t("leads.working") : t(`leads.commands.${command}`)}
      </button>
      <ProblemMessage error={run.error} />
    </>
  );
}

/** ISO date `days` from today, in the reader's calendar. */
function inDays(days: number): string {
  const day = new Date();
  day.setDate(day.getDate() + days);
  return localDay(day);
}

type ConvertErrors = Partial<Record<"opportunity_name" | "amount" | "currency" | "expected_close_date", string>>;

/**
 * The conversion form: the deal's name, amount and expected close; the account is matched
 * by the service (or created). Opens the new deal, which the opportunities service creates
 * from the lead's event a moment later.
 */
function ConvertForm({ lead }: { lead: Lead }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const settings = useOrgSettings();
  const convert = useConvertLead();
  const [name, setName] = useState(() => [lead.company || leadName(lead), lead.product_interest].filter(Boolean).join(" – "));
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState<string>();
  const [closeDate, setCloseDate] = useState(() => inDays(90));
  const [errors, setErrors] = useState<ConvertErrors>({});
  const shownCurrency = currency ?? settings.data?.settings?.corporate_currency ?? "";

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: ConvertErrors = {};
    if (!name.trim()) found.opportunity_name = t("leads.convert.nameRequired");
    if (amount.trim() && !(isDecimal(amount) && !amount.trim().startsWith("-"))) found.amount = t("leads.convert.amountInvalid");
    if (amount.trim() && !/^[A-Z]{3}$/.test(shownCurrency)) found.currency = t("leads.convert.currencyInvalid");
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    // Awaited here rather than in mutate's callbacks: the lead turns "converted" as the
    // answer lands, which unmounts this form before those callbacks would run.
    void convert
      .mutateAsync({
        leadId: lead.id ?? "",
        opportunityName: name.trim(),
        ...(amount.trim() ? { amount: { amount: amount.trim(), currency_code: shownCurrency } } : {}),
        expectedCloseDate: closeDate,
      })
      .then(
        (answer) => navigate(`/opportunities/${answer.opportunity_id ?? ""}?converted=1`),
        (error: unknown) => {
          if (!(error instanceof ApiError)) return;
          const byField = violationsByField(error.problem);
          setErrors({
            opportunity_name: byField.opportunity_name,
            amount: byField["opportunity_amount.amount"] ?? byField.opportunity_amount,
            currency: byField["opportunity_amount.currency_code"],
            expected_close_date: byField.expected_close_date,
          });
        },
      );
  }

  return (
    <Card title={t("leads.convert.title")} subtitle={t("leads.convert.hint")}>
      <form className="form" onSubmit={submit} noValidate>
        <Field label={t("leads.convert.name")} error={errors.opportunity_name}>
          {(control) => <input {...control} value={name} maxLength={200} onChange={(event) => setName(event.target.value)} />}
        </Field>
        <div className="form-row">
          <Field label={t("leads.convert.amount")} error={errors.amount}>
            {(control) => (
              <input {...control} inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} />
            )}
          </Field>
          <Field label={t("leads.convert.currency")} error={errors.currency}>
            {(control) => (
              <input
                {...control}
                value={shownCurrency}
                maxLength={3}
                autoCapitalize="characters"
                onChange={(event) => setCurrency(event.target.value.toUpperCase())}
              />
            )}
          </Field>
        </div>
        <Field label={t("leads.convert.closeDate")} error={errors.expected_close_date}>
          {(control) => (
            <input {...control} type="date" value={closeDate} onChange={(event) => setCloseDate(event.target.value)} />
          )}
        </Field>
        <ProblemMessage error={convert.error} besideFields />
        <button type="submit" className="button button-primary" disabled={convert.isPending}>
          {convert.isPending ? t("leads.convert.converting") : t("leads.convert.submit")}
        </button>
      </form>
    </Card>
  );
}
