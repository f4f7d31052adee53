import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePagedList } from "../ui/usePagedList";

/** The sales toolkit (K1): articles the caller reads, most recently changed first. */
export function KnowledgePage() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const paging = usePagedList();
  const query = useQuery({
    queryKey: ["articles", "list", paging.pageToken],
    queryFn: () =>
      data(
        api.GET("/v1/knowledge/articles", {
          params: { query: { "page.page_size": 25, ...(paging.pageToken ? { "page.page_token": paging.pageToken } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="page">
      <PageHeader title={t("knowledge.title")} />
      <div className="panel">
        <QueryView
          query={query}
          isEmpty={(answer) => (answer.articles ?? []).length === 0}
          empty={<EmptyState title={t("knowledge.empty")} hint={t("knowledge.emptyHint")} />}
        >
          {(answer) => (
            <>
              <ul className="plain-list">
                {(answer.articles ?? []).map((article) => {
                  const version = article.version;
                  return (
                    <li key={article.article_id} className="list-row">
                      <div className="list-row-main">
                        <Link to={`/knowledge/articles/${article.article_id ?? ""}`} className="list-row-title">
                          {version?.content?.title}
                        </Link>
                        <span className="list-row-note">{version?.content?.summary}</span>
                      </div>
                      <span className="badge">{t(`enums.articleKind.${version?.content?.kind ?? "ARTICLE_KIND_UNSPECIFIED"}`)}</span>
                      {version?.status !== "VERSION_STATUS_PUBLISHED" && (
                        <span className="badge badge-warning">
                          {t(`enums.versionStatus.${version?.status ?? "VERSION_STATUS_UNSPECIFIED"}`)}
                        </span>
                      )}
                      <span className="list-row-note">{format.instantDay(article.updated_at)}</span>
                    </li>
                  );
                })}
              </ul>
              <Pager
                pageIndex={paging.pageIndex}
                hasNext={Boolean(answer.page?.next_page_token)}
                onPrevious={paging.previous}
                onNext={() => paging.next(answer.page?.next_page_token)}
                busy={query.isFetching}
              />
            </>
          )}
        </QueryView>
      </div>
    </div>
  );
}
