import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { Problem } from "../api/problem";
import { useApi, useSession } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { problemDetail, problemTitle } from "../ui/problemText";
import { uploadCsv, type ImportSummary } from "./uploadCsv";
import "./import.css";
import { TableScroll } from "../ui/TableScroll";

type Stage =
  | { kind: "idle" }
  | { kind: "uploading"; sent: number; total: number }
  | { kind: "importing" }
  | { kind: "done"; summary: ImportSummary; file: string }
  | { kind: "failed"; problem: Problem };

/**
 * CSV lead import (L1): pick a file (and a campaign), watch it go up, then see what became of
 * every row — created, flagged as a duplicate, or refused with its line and field.
 */
export function ImportPage() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const session = useSession();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File>();
  const [campaignId, setCampaignId] = useState("");
  const [fileError, setFileError] = useState<string>();
  const [stage, setStage] = useState<Stage>({ kind: "idle" });
  const campaigns = useQuery({
    queryKey: ["campaigns"],
    queryFn: () => data(api.GET("/v1/campaigns")),
    staleTime: 10 * 60_000,
  });
  const busy = stage.kind === "uploading" || stage.kind === "importing";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) {
      setFileError(t("import.fileRequired"));
      return;
    }
    setFileError(undefined);
    setStage({ kind: "uploading", sent: 0, total: file.size });
    const result = await uploadCsv({
      file,
      tokens: session,
      ...(campaignId ? { campaignId } : {}),
      onProgress: (sent, total) =>
        setStage(sent >= total ? { kind: "importing" } : { kind: "uploading", sent, total }),
    });
    if (result.ok) {
      setStage({ kind: "done", summary: result.summary, file: file.name });
      void queryClient.invalidateQueries({ queryKey: ["leads"] });
    } else {
      setStage({ kind: "failed", problem: result.problem });
    }
  }

  return (
    <div className="page">
      <PageHeader title={t("import.title")} subtitle={t("import.subtitle")} />
      <div className="detail-grid">
        <Card title={t("import.fileCard")} subtitle={t("import.columns")}>
          <form className="form" onSubmit={submit} noValidate>
            <Field label={t("import.file")} error={fileError} hint={t("import.fileHint")}>
              {(control) => (
                <input
                  {...control}
                  type="file"
                  accept=".csv,text/csv"
                  disabled={busy}
                  onChange={(event) => {
                    setFile(event.target.files?.[0]);
                    setStage({ kind: "idle" });
                  }}
                />
              )}
            </Field>
            <Field label={t("import.campaign")}>
              {(control) => (
                <select {...control} value={campaignId} disabled={busy} onChange={(event) => setCampaignId(event.target.value)}>
                  <option value="">{t("import.noCampaign")}</option>
                  {(campaigns.data?.campaigns ?? []).map((campaign) => (
                    <option key={campaign.id} value={campaign.id}>
                      {campaign.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? t("import.importing") : t("import.submit")}
            </button>
          </form>
          <Progress stage={stage} />
          {stage.kind === "failed" && (
            <div className="form-error" role="alert">
              <p>{problemTitle(i18n, stage.problem)}</p>
              {problemDetail(i18n, stage.problem) && <p>{problemDetail(i18n, stage.problem)}</p>}
            </div>
          )}
        </Card>
        {stage.kind === "done" && <Report summary={stage.summary} file={stage.file} />}
      </div>
    </div>
  );
}

function Progress({ stage }: { stage: Stage }) {
  const { t } = useTranslation();
  if (stage.kind !== "uploading" && stage.kind !== "importing") return null;
  const percent = stage.kind === "uploading" && stage.total > 0 ? Math.floor((stage.sent / stage.total) * 100) : 100;
  const label = stage.kind === "uploading" ? t("import.uploading", { percent }) : t("import.processing");
  return (
    <div className="import-progress">
      <div
        className={`progress${stage.kind === "importing" ? " progress-busy" : ""}`}
        role="progressbar"
        aria-label={t("import.progress")}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={label}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="muted" role="status">
        {label}
      </p>
    </div>
  );
}

function Report({ summary, file }: { summary: ImportSummary; file: string }) {
  const { t } = useTranslation();
  const figures: [string, number][] = [
    [t("import.received"), summary.rowsReceived],
    [t("import.created"), summary.created],
    [t("import.flagged"), summary.flaggedDuplicates],
    [t("import.merged"), summary.mergedDuplicates],
    [t("import.rejected"), summary.rejected],
  ];
  return (
    <Card title={t("import.report")} subtitle={file}>
      <p role="status" className={summary.rejected > 0 ? "notice notice-warning" : "notice"}>
        {summary.rejected > 0
          ? t("import.someRefused", { created: summary.created, rejected: summary.rejected })
          : t("import.allImported", { created: summary.created })}
      </p>
      <dl className="figures import-figures">
        {figures.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {summary.errors.length > 0 && (
        <TableScroll label={t("import.errors")}>
          <table className="table table-compact">
            <caption>{t("import.errors")}</caption>
            <thead>
              <tr>
                <th scope="col" className="num">{t("import.line")}</th>
                <th scope="col">{t("import.field")}</th>
                <th scope="col">{t("import.problem")}</th>
              </tr>
            </thead>
            <tbody>
              {summary.errors.map((error, index) => (
                <tr key={index}>
                  <td className="num">{error.line}</td>
                  <td>
                    <code>{error.field}</code>
                  </td>
                  <td>{error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <p>
        <Link to="/leads">{t("import.toLeads")}</Link>
      </p>
    </Card>
  );
}
