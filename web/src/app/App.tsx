import { useState } from "react";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import type { i18n } from "i18next";
import { I18nextProvider } from "react-i18next";
import { createBrowserRouter, RouterProvider } from "react-router";
import type { ApiClient } from "../api/client";
import type { Session } from "../session/session";
import { ServicesProvider } from "../session/SessionContext";
import { routes } from "./routes";

interface AppProps {
  session: Session;
  api: ApiClient;
  queryClient: QueryClient;
  i18n: i18n;
}

export function App({ session, api, queryClient, i18n }: AppProps) {
  // One router for the page's life: made once, not on every render.
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <I18nextProvider i18n={i18n}>
      <ServicesProvider session={session} api={api}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </I18nextProvider>
  );
}
