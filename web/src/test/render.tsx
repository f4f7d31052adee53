// Renders a piece of the console as the app does — session, API client, query cache,
// translations and router — over a stubbed fetch.
import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { I18nextProvider } from "react-i18next";
import { createMemoryRouter, RouterProvider } from "react-router";
import { createApiClient } from "../api/client";
import { createQueryClient } from "../app/queryClient";
import { createI18n, type Language } from "../i18n";
import { Session } from "../session/session";
import { ServicesProvider } from "../session/SessionContext";
import { json, REP, tokens } from "./fetchStub";

interface Options {
  fetch: typeof globalThis.fetch;
  language?: Language;
  path?: string;
  /** The address to start at (default: `path`). */
  entry?: string;
  /** Sign in first (the login answer is given here, not by `fetch`). */
  signedIn?: boolean;
}

export async function renderConsole(element: ReactNode, options: Options) {
  const login = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (options.signedIn && url.endsWith("/v1/auth:login")) return json({ ...tokens("test-token", 15 * 60_000), user: REP });
    return options.fetch(input, init);
  };
  const session = new Session({ fetch: login, loadUser: async () => REP });
  if (options.signedIn) await session.login(REP.email, "password");
  const api = createApiClient(session, options.fetch);
  const queryClient = createQueryClient();
  const i18n = createI18n(options.language ?? "en");
  const path = options.path ?? "/";
  const router = createMemoryRouter(
    [
      { path, element },
      { path: "*", element: <p>elsewhere</p> },
    ],
    { initialEntries: [options.entry ?? path] },
  );
  const view = render(
    <I18nextProvider i18n={i18n}>
      <ServicesProvider session={session} api={api}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </I18nextProvider>,
  );
  return { ...view, session, queryClient, router };
}
