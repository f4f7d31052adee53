import { useId, useState, type DragEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { ApiError } from "../api/problem";
import type { Opportunity, Pipeline } from "../api/types";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { problemDetail, problemTitle } from "../ui/problemText";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { columnsOf, openStages, pickPipeline, type Column, type PendingMove, type Stage } from "./board";
import { missingCriteria } from "./exitCriteria";
import { useMoveDeal, type Move } from "./useMoveDeal";
import "./pipeline.css";

/** Open deals the board reads at most: 5 pages of 200, more than a team works at once. */
const PAGE_SIZE = 200;
const MAX_PAGES = 5;
const DRAG_TYPE = "application/x-crm-deal";

/** Every open deal of the pipeline the caller may see, soonest expected close first. */
function useOpenDeals(pipelineId: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ["opportunities", "board", pipelineId],
    enabled: pipelineId !== undefined,
    queryFn: async () => {
      const deals: Opportunity[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await data(
          api.GET("/v1/opportunities", {
            params: {
              query: {
                pipeline_id: pipelineId!,
                status: "OPPORTUNITY_STATUS_OPEN",
                sort_by: "OPPORTUNITY_SORT_FIELD_EXPECTED_CLOSE_DATE",
                sort_direction: "SORT_DIRECTION_ASCENDING",
                "page.page_size": PAGE_SIZE,
                ...(pageToken ? { "page.page_token": pageToken } : {}),
              },
            },
          }),
        );
        deals.push(...(answer.opportunities ?? []));
        pageToken = answer.page?.next_page_token || undefined;
        if (!pageToken) return { deals, complete: true };
      }
      return { deals, complete: false };
    },
  });
}

/**
 * The pipeline board (O3): a column per open stage, the deals in it, drag a card to move the
 * deal — or pick the stage from the card's menu, which is what a keyboard or a phone uses.
 * A move the stage's exit criteria refuse says which criteria are missing.
 */
export function PipelineBoardPage() {
  const { t } = useTranslation();
  const api = useApi();
  const pickerId = useId();
  const [search, setSearch] = useSearchParams();
  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: () => data(api.GET("/v1/pipelines")),
    staleTime: 10 * 60_000,
  });
  const pipeline = pickPipeline(pipelines.data?.pipelines ?? [], search.get("pipeline") ?? undefined);
  const deals = useOpenDeals(pipeline?.id);

  return (
    <div className="page page-wide">
      <PageHeader
        title={t("pipeline.title")}
        subtitle={t("pipeline.subtitle")}
        actions={
          (pipelines.data?.pipelines ?? []).length > 1 && (
            <div className="toolbar">
              <label htmlFor={pickerId}>{t("pipeline.pipeline")}</label>
              <select
                id={pickerId}
                value={pipeline?.id ?? ""}
                onChange={(event) => setSearch({ pipeline: event.target.value }, { replace: true })}
              >
                {(pipelines.data?.pipelines ?? []).map((known) => (
                  <option key={known.id} value={known.id}>
                    {known.name}
                  </option>
                ))}
              </select>
            </div>
          )
        }
      />
      <QueryView
        query={pipelines}
        isEmpty={(answer) => (answer.pipelines ?? []).length === 0}
        empty={<EmptyState title={t("pipeline.noPipeline")} hint={t("pipeline.noPipelineHint")} />}
      >
        {() => (
          <QueryView query={deals}>
            {(answer) => <Board pipeline={pipeline} deals={answer.deals} complete={answer.complete} />}
          </QueryView>
        )}
      </QueryView>
    </div>
  );
}

interface Refusal {
  deal: Opportunity;
  stage: Stage | undefined;
  error: unknown;
}

function Board({ pipeline, deals, complete }: { pipeline: Pipeline | undefined; deals: Opportunity[]; complete: boolean }) {
  const { t } = useTranslation();
  const move = useMoveDeal();
  const [refusal, setRefusal] = useState<Refusal>();
  const pending: PendingMove | undefined =
    move.isPending && move.variables ? { dealId: move.variables.deal.id ?? "", stageId: move.variables.stageId } : undefined;
  const stages = openStages(pipeline);
  const columns = columnsOf(pipeline, deals, pending);

  const moveDeal = (request: Move) => {
    if (request.deal.stage?.stage_id === request.stageId || move.isPending) return;
    setRefusal(undefined);
    move.mutate(request, {
      onError: (error) =>
        setRefusal({ deal: request.deal, stage: stages.find((stage) => stage.id === request.stageId), error }),
    });
  };

  if (deals.length === 0) {
    return (
      <EmptyState
        title={t("pipeline.empty")}
        hint={t("pipeline.emptyHint")}
        action={<Link to="/leads">{t("pipeline.toLeads")}</Link>}
      />
    );
  }
  return (
    <>
      {refusal && <RefusalNotice refusal={refusal} onDismiss={() => setRefusal(undefined)} />}
      {!complete && <p className="notice">{t("pipeline.partial", { count: deals.length })}</p>}
      <div className="stage-board">
        {columns.map((column) => (
          <StageColumn
            key={column.stage.id}
            column={column}
            stages={stages}
            pending={pending}
            onMove={moveDeal}
            deals={deals}
          />
        ))}
      </div>
    </>
  );
}

function StageColumn({
  column,
  stages,
  pending,
  deals,
  onMove,
}: {
  column: Column;
  stages: Stage[];
  pending: PendingMove | undefined;
  deals: Opportunity[];
  onMove: (move: Move) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const headingId = useId();
  const [over, setOver] = useState(false);
  const accepts = (event: DragEvent) => event.dataTransfer.types.includes(DRAG_TYPE);
  return (
    <section
      className={`stage-column${over ? " stage-column-over" : ""}`}
      aria-labelledby={headingId}
      data-stage={column.stage.name}
      onDragOver={(event) => {
        if (!accepts(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        setOver(false);
        const dealId = event.dataTransfer.getData(DRAG_TYPE);
        const deal = deals.find((known) => known.id === dealId);
        if (!deal) return;
        event.preventDefault();
        onMove({ deal, stageId: column.stage.id ?? "" });
      }}
    >
      <header className="stage-column-header">
        <h2 id={headingId} className="stage-column-title">
          {column.stage.name}
        </h2>
        <p className="stage-column-meta">
          {t("pipeline.columnMeta", {
            count: column.deals.length,
            probability: column.stage.default_probability ?? 0,
          })}
          {column.total && <span className="stage-column-total">{format.money(column.total, { compact: true })}</span>}
        </p>
      </header>
      <ul className="stage-cards">
        {column.deals.map((deal) => (
          <DealCard
            key={deal.id}
            deal={deal}
            stages={stages}
            moving={pending?.dealId === deal.id}
            onMove={onMove}
          />
        ))}
        {column.deals.length === 0 && <li className="stage-empty">{t("pipeline.dropHere")}</li>}
      </ul>
    </section>
  );
}

function DealCard({
  deal,
  stages,
  moving,
  onMove,
}: {
  deal: Opportunity;
  stages: Stage[];
  moving: boolean;
  onMove: (move: Move) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const moveId = useId();
  return (
    <li
      className={`stage-card${moving ? " stage-card-moving" : ""}`}
      draggable={!moving}
      data-deal={deal.name}
      onDragStart={(event) => {
        event.dataTransfer.setData(DRAG_TYPE, deal.id ?? "");
        event.dataTransfer.effectAllowed = "move";
      }}
    >
      <Link className="stage-card-name" to={`/opportunities/${deal.id ?? ""}`} draggable={false}>
        {deal.name}
      </Link>
      <p className="stage-card-amount">{format.money(deal.amount)}</p>
      <p className="stage-card-meta">
        {t("pipeline.closes", { date: format.day(deal.expected_close_date) })}
        {deal.next_step && <span className="stage-card-next"> · {deal.next_step}</span>}
      </p>
      <div className="stage-card-move">
        <label htmlFor={moveId} className="visually-hidden">
          {t("pipeline.moveLabel", { deal: deal.name })}
        </label>
        <select
          id={moveId}
          value={deal.stage?.stage_id ?? ""}
          disabled={moving}
          onChange={(event) => onMove({ deal, stageId: event.target.value })}
        >
          {stages.map((stage) => (
            <option key={stage.id} value={stage.id}>
              {stage.name}
            </option>
          ))}
        </select>
        {moving && (
          <span className="badge" role="status">
            {t("pipeline.moving")}
          </span>
        )}
      </div>
    </li>
  );
}

/** Why a move did not happen: the missing exit criteria by name, or the problem as the API told it. */
function RefusalNotice({ refusal, onDismiss }: { refusal: Refusal; onDismiss: () => void }) {
  const { t, i18n } = useTranslation();
  const problem = refusal.error instanceof ApiError ? refusal.error.problem : undefined;
  const missing = problem ? missingCriteria(t, problem) : undefined;
  const stage = refusal.stage?.name ?? "";
  return (
    <div className="refusal" role="alert">
      <p className="refusal-title">
        {missing
          ? t("pipeline.refused", { deal: refusal.deal.name, stage })
          : t("pipeline.notMoved", { deal: refusal.deal.name, stage })}
      </p>
      {missing && missing.length > 0 && (
        <>
          <p>{t("pipeline.missing")}</p>
          <ul className="refusal-list">
            {missing.map((label) => (
              <li key={label}>{label}</li>
            ))}
          </ul>
        </>
      )}
      {!missing && problem && (
        <p>{problemDetail(i18n, problem) || problemTitle(i18n, problem)}</p>
      )}
      <p className="refusal-actions">
        <Link to={`/opportunities/${refusal.deal.id ?? ""}`}>{t("pipeline.openDeal")}</Link>
        <button type="button" className="button button-small button-ghost" onClick={onDismiss}>
          {t("pipeline.dismiss")}
        </button>
      </p>
    </div>
  );
}
