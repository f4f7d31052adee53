import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { QueryView } from "../ui/QueryView";

/** One article, its version the caller reads. */
export function ArticlePage() {
  const { articleId = "" } = useParams();
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const query = useQuery({
    queryKey: ["article", articleId],
    queryFn: () => data(api.GET("/v1/knowledge/articles/{article_id}", { params: { path: { article_id: articleId } } })),
  });

  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/knowledge">{t("nav.knowledge")}</Link>
      </p>
      <QueryView query={query}>
        {({ article = {} }) => {
          const version = article.version;
          return (
            <article className="panel article">
              <PageHeader
                title={version?.content?.title ?? ""}
                subtitle={[
                  t(`enums.articleKind.${version?.content?.kind ?? "ARTICLE_KIND_UNSPECIFIED"}`),
                  t("knowledge.version", { version: version?.version ?? 0 }),
                  format.instantDay(version?.updated_at),
                ].join(" · ")}
              />
              {version?.content?.summary && <p className="article-summary">{version.content.summary}</p>}
              {/* The knowledge service renders the Markdown to HTML and sanitises it by an
                  allow-list (no script, style or event handlers; docs/api.md, Knowledge). */}
              <div className="prose" dangerouslySetInnerHTML={{ __html: version?.body_html ?? "" }} />
            </article>
          );
        }}
      </QueryView>
    </div>
  );
}
