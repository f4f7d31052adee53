// The stage board's arithmetic, apart from React: which stages are columns, which deals stand
// in each (a move on its way already shows in its target column), and each column's total in
// the corporate currency, summed exactly.
import type { Opportunity, Pipeline } from "../api/types";
import { addDecimals } from "../format/decimal";
import { isMoney, type MoneyLike } from "../format/money";

export type Stage = NonNullable<Pipeline["stages"]>[number];

/** A move the rep asked for and the service has not answered yet. */
export interface PendingMove {
  dealId: string;
  stageId: string;
}

export interface Column {
  stage: Stage;
  deals: Opportunity[];
  /** The column's deals in the corporate currency; undefined when it holds none. */
  total?: MoneyLike;
}

/** The pipeline's open stages a deal can be moved to, in the pipeline's order. */
export function openStages(pipeline: Pipeline | undefined): Stage[] {
  return (pipeline?.stages ?? [])
    .filter((stage) => stage.kind === "STAGE_KIND_OPEN" && !stage.retired)
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
}

/** Where a deal stands on the board: the stage it is moving to, else its own. */
export function boardStageOf(deal: Opportunity, pending: PendingMove | undefined): string | undefined {
  return pending && pending.dealId === deal.id ? pending.stageId : deal.stage?.stage_id;
}

/**
 * One column per open stage, each with its deals in the order given (the caller's sort) and
 * their corporate total. A deal in a stage that is not a column (retired since) is left out:
 * the list page still shows it.
 */
export function columnsOf(pipeline: Pipeline | undefined, deals: readonly Opportunity[], pending?: PendingMove): Column[] {
  return openStages(pipeline).map((stage) => {
    const inStage = deals.filter((deal) => boardStageOf(deal, pending) === stage.id);
    const amounts = inStage.flatMap((deal): MoneyLike[] => {
      const money: unknown = deal.corporate_amount?.amount;
      return isMoney(money) ? [money] : [];
    });
    const currency = amounts[0]?.currency_code;
    const column: Column = { stage, deals: inStage };
    if (currency && amounts.every((money) => money.currency_code === currency)) {
      column.total = { amount: addDecimals(amounts.map((money) => money.amount)), currency_code: currency };
    }
    return column;
  });
}

/** The pipeline the board opens on: the one asked for, else the default, else the first. */
export function pickPipeline(pipelines: readonly Pipeline[], wanted: string | undefined): Pipeline | undefined {
  return (
    pipelines.find((pipeline) => pipeline.id === wanted) ??
    pipelines.find((pipeline) => pipeline.is_default) ??
    pipelines[0]
  );
}
