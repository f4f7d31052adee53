import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { createQueryClient } from "./app/queryClient";
import { api, session } from "./app/services";
import { createI18n } from "./i18n";
import "./styles/base.css";
import "./styles/components.css";

const i18n = createI18n();
const queryClient = createQueryClient();

// Whatever page was loaded, first find out whether the cookie still holds a session.
void session.restore();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App session={session} api={api} queryClient={queryClient} i18n={i18n} />
    </StrictMode>,
  );
}
