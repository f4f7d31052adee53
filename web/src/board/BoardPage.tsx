import { useTranslation } from "react-i18next";
import { PriorityBoardCard } from "../day/cards/PriorityBoardCard";
import { BOARD_LIMIT } from "../day/queries";
import { PageHeader } from "../ui/PageHeader";

/** The whole priority board (O9): every open deal of the caller's, ranked, with the formula. */
export function BoardPage() {
  const { t } = useTranslation();
  return (
    <div className="page">
      <PageHeader title={t("board.title")} subtitle={t("board.subtitle")} />
      <PriorityBoardCard limit={BOARD_LIMIT} />
    </div>
  );
}
