import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { EmptyState } from "../ui/states";

/** Routes of later increments (CSV import, the executive cockpit), reached only by address. */
export function NotInThisVersionPage() {
  const { t } = useTranslation();
  return (
    <div className="page">
      <EmptyState
        title={t("notInThisVersion.title")}
        hint={t("notInThisVersion.hint")}
        action={<Link to="/day">{t("notInThisVersion.back")}</Link>}
      />
    </div>
  );
}
