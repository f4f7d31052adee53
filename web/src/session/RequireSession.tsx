import { useEffect } from "react";
import { Navigate, useLocation } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useSessionState } from "./SessionContext";
import { signInPath } from "./next";
import { FullPageMessage } from "../ui/FullPageMessage";

/** The signed-in part of the console: waits for the session, else sends to sign-in. */
export function RequireSession({ children }: { children: React.ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  const queryClient = useQueryClient();
  const { t } = useTranslation();

  // Another user's figures must never show: a session that ends takes its data with it.
  useEffect(() => {
    if (state.status === "signed-out") queryClient.clear();
  }, [state.status, queryClient]);

  if (state.status === "restoring") {
    return (
      <FullPageMessage busy>
        {state.problem ? t("session.unavailable") : t("session.restoring")}
      </FullPageMessage>
    );
  }
  if (state.status === "signed-out") {
    const from = state.reason === "signed-out" ? undefined : location.pathname + location.search;
    return <Navigate to={signInPath(from)} replace state={{ reason: state.reason }} />;
  }
  return <>{children}</>;
}
