import { useTranslation } from "react-i18next";
import type { PriorityBoardItem } from "../../api/types";
import { localize } from "../../i18n/localizable";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";
import { DealCell } from "../DealCell";
import { BOARD_LIMIT, usePriorityBoard } from "../queries";

/** The score's staleness part says a deal went stale; the API has no stale-deal listing. */
const STALE_CODE = "opportunities.board.staleness";

export function staleness(item: PriorityBoardItem) {
  return item.parts?.find((part) => part.name === "staleness" && part.explanation?.code === STALE_CODE);
}

/** Open deals with no activity for longer than their pipeline allows (O7), longest first. */
export function StaleDealsCard() {
  const { t, i18n } = useTranslation();
  const query = usePriorityBoard();
  return (
    <Card title={t("day.stale.title")} className="card-stale">
      <QueryView
        query={query}
        isEmpty={(answer) => !(answer.items ?? []).some(staleness)}
        empty={<EmptyState title={t("day.stale.empty")} hint={t("day.stale.emptyHint")} />}
      >
        {(answer) => {
          const stale = (answer.items ?? [])
            .filter(staleness)
            .sort((a, b) => Number(staleness(b)?.explanation?.params?.days ?? 0) - Number(staleness(a)?.explanation?.params?.days ?? 0));
          const partial = (answer.total_open_deals ?? 0) > (answer.items ?? []).length;
          return (
            <>
              <ul className="plain-list">
                {stale.map((item) => (
                  <li key={item.opportunity?.id} className="list-row">
                    <DealCell deal={item.opportunity} />
                    <span className="list-row-note">{localize(i18n, staleness(item)?.explanation)}</span>
                  </li>
                ))}
              </ul>
              {partial && <p className="card-footnote">{t("day.stale.partial", { count: BOARD_LIMIT })}</p>}
            </>
          );
        }}
      </QueryView>
    </Card>
  );
}
