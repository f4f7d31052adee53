import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { DealCell } from "../DealCell";
import { BOARD_LIMIT, usePriorityBoard } from "../queries";
import { ScoreParts } from "../ScoreParts";

/** "First things first" (O9): the open deals that deserve attention now, with the formula. */
export function PriorityBoardCard({ limit = 8 }: { limit?: number }) {
  const { t } = useTranslation();
  const query = usePriorityBoard();
  return (
    <Card
      title={t("day.board.title")}
      subtitle={query.data ? t("day.board.openDeals", { count: query.data.total_open_deals ?? 0 }) : undefined}
      actions={
        limit < BOARD_LIMIT && (
          <Link to="/board" className="card-link">
            {t("day.board.all")}
          </Link>
        )
      }
      className="card-board"
    >
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.items ?? []).length === 0}
        empty={<EmptyState title={t("day.board.empty")} hint={t("day.board.emptyHint")} />}
      >
        {(answer) => (
          <>
            <ol className="board-list">
              {(answer.items ?? []).slice(0, limit).map((item) => (
                <li key={item.opportunity?.id} className="board-item">
                  <span className="board-rank" aria-label={t("day.board.rank", { rank: item.rank })}>
                    {item.rank}
                  </span>
                  <DealCell deal={item.opportunity} />
                  {item.late_milestones ? (
                    <span className="badge badge-warning">
                      {t("day.board.lateMilestones", { count: item.late_milestones, days: item.max_days_late ?? 0 })}
                    </span>
                  ) : null}
                  <ScoreParts score={item.score} parts={item.parts ?? []} />
                </li>
              ))}
            </ol>
            {answer.formula && (
              <details className="formula">
                <summary>{t("day.board.formula")}</summary>
                <p lang="en">{answer.formula}</p>
              </details>
            )}
          </>
        )}
      </QueryView>
    </Card>
  );
}
