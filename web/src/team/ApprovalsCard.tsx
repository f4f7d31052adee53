import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { Quote } from "../api/types";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { Card } from "../ui/Card";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePeople } from "./usePeople";
import { ProblemMessage } from "../ui/ProblemMessage";

/** The discounts waiting for the manager (D3): approve, or reject with a reason for the rep. */
export function ApprovalsCard() {
  const { t } = useTranslation();
  const api = useApi();
  const query = useQuery({
    queryKey: ["quotes", "awaitingApproval"],
    queryFn: () => data(api.GET("/v1/quotes:awaitingApproval", { params: { query: { limit: 50 } } })),
  });
  return (
    <Card title={t("team.approvals.title")} className="card-approvals">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.quotes ?? []).length === 0}
        empty={<EmptyState title={t("team.approvals.empty")} hint={t("team.approvals.emptyHint")} />}
      >
        {(answer) => (
          <>
            <ul className="plain-list">
              {(answer.quotes ?? []).map((waiting) =>
                waiting.quote ? (
                  <ApprovalRow key={waiting.quote.id} quote={waiting.quote} dealName={waiting.opportunity_name ?? ""} />
                ) : null,
              )}
            </ul>
            {answer.more && <p className="card-footnote">{t("team.approvals.more")}</p>}
          </>
        )}
      </QueryView>
    </Card>
  );
}

type Decision = { kind: "approve" } | { kind: "reject"; reason: string };

function ApprovalRow({ quote, dealName }: { quote: Quote; dealName: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const nameOf = usePeople();
  const queryClient = useQueryClient();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const decide = useMutation({
    mutationFn: (decision: Decision) => {
      const params = { path: { quote_id: quote.id ?? "" } };
      const expected_version = quote.version;
      return decision.kind === "approve"
        ? data(api.POST("/v1/quotes/{quote_id}:approveDiscount", { params, body: { expected_version } }))
        : data(api.POST("/v1/quotes/{quote_id}:rejectDiscount", { params, body: { reason: decision.reason, expected_version } }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["quotes"] }),
  });
  const label = t("deals.quoteNumber", { number: quote.number ?? "", version: quote.quote_version ?? 1 });
  return (
    <li className="list-row approval">
      <div className="list-row-main">
        <Link to={`/opportunities/${quote.opportunity_id ?? ""}`} className="list-row-title">
          {dealName || label}
        </Link>
        <span className="list-row-note">
          {[
            label,
            nameOf(quote.owner_id),
            t("deals.quoteDiscount", { percent: format.percent(quote.figures?.discount_percent) }),
            t("team.approvals.threshold", { percent: format.percent(quote.approval?.threshold_percent) }),
            format.money(quote.figures?.total),
            format.dateTime(quote.approval?.submitted_at),
          ]
            .filter(Boolean)
            .join(" · ")}
        </span>
      </div>
      <div className="toolbar">
        <button
          type="button"
          className="button button-small button-primary"
          disabled={decide.isPending}
          onClick={() => decide.mutate({ kind: "approve" })}
          aria-label={t("team.approvals.approveLabel", { quote: label })}
        >
          {t("team.approvals.approve")}
        </button>
        <button
          type="button"
          className="button button-small button-secondary"
          disabled={decide.isPending}
          aria-expanded={rejecting}
          onClick={() => setRejecting(!rejecting)}
          aria-label={t("team.approvals.rejectLabel", { quote: label })}
        >
          {t("team.approvals.reject")}
        </button>
      </div>
      {rejecting && (
        <form
          className="toolbar approval-reason"
          onSubmit={(event) => {
            event.preventDefault();
            if (reason.trim()) decide.mutate({ kind: "reject", reason: reason.trim() });
          }}
        >
          <label>
            <span className="visually-hidden">{t("team.approvals.reason")}</span>
            <input
              value={reason}
              maxLength={1000}
              placeholder={t("team.approvals.reasonPlaceholder")}
              onChange={(event) => setReason(event.target.value)}
            />
          </label>
          <button type="submit" className="button button-small button-secondary" disabled={decide.isPending || !reason.trim()}>
            {t("team.approvals.sendReject")}
          </button>
        </form>
      )}
      <ProblemMessage error={decide.error} inline />
    </li>
  );
}
