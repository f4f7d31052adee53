import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { EmptyState } from "../ui/states";

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <div className="page">
      <EmptyState title={t("notFound.title")} hint={t("notFound.hint")} action={<Link to="/">{t("notFound.home")}</Link>} />
    </div>
  );
}
