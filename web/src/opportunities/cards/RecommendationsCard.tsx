import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../../api/client";
import { localize } from "../../i18n/localizable";
import { useApi } from "../../session/SessionContext";
import { Card } from "../../ui/Card";
import { EmptyState } from "../../ui/states";
import { QueryView } from "../../ui/QueryView";

/**
 * What to read for this deal now (K3): the playbook of its stage, the battlecards of its
 * competitors, objection handling — in the reader's language, each with why it is here.
 */
export function RecommendationsCard({ dealId }: { dealId: string }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const language = i18n.language.startsWith("zh") ? "LANGUAGE_ZH" : "LANGUAGE_EN";
  const query = useQuery({
    queryKey: ["recommendations", dealId, language],
    queryFn: () =>
      data(
        api.GET("/v1/knowledge/deals/{deal_id}/recommendations", {
          params: { path: { deal_id: dealId }, query: { language, limit: 5 } },
        }),
      ),
  });
  return (
    <Card title={t("deals.recommended")} subtitle={t("deals.recommendedHint")} className="card-recommended">
      <QueryView
        query={query}
        isEmpty={(answer) => (answer.recommendations ?? []).length === 0}
        empty={<EmptyState title={t("deals.noRecommendations")} />}
      >
        {(answer) => (
          <ul className="plain-list">
            {(answer.recommendations ?? []).map((recommendation) => {
              const article = recommendation.article ?? {};
              const why = (recommendation.reasons ?? [])
                .map((reason) => localize(i18n, reason.text))
                .filter(Boolean)
                .join(" · ");
              return (
                <li key={article.article_id} className="list-row">
                  <div className="list-row-main">
                    <Link to={`/knowledge/articles/${article.article_id ?? ""}`} className="list-row-title">
                      {article.title}
                    </Link>
                    <span className="list-row-note">{why || article.summary}</span>
                  </div>
                  <span className="badge">{t(`enums.articleKind.${article.kind ?? "ARTICLE_KIND_UNSPECIFIED"}`)}</span>
                </li>
              );
            })}
          </ul>
        )}
      </QueryView>
    </Card>
  );
}
