import { Navigate, type RouteObject } from "react-router";
import { AccountPage } from "../accounts/AccountPage";
import { AccountsPage } from "../accounts/AccountsPage";
import { BoardPage } from "../board/BoardPage";
import { CockpitPage } from "../cockpit/CockpitPage";
import { MyDayPage } from "../day/MyDayPage";
import { ImportPage } from "../import/ImportPage";
import { ArticlePage } from "../knowledge/ArticlePage";
import { KnowledgePage } from "../knowledge/KnowledgePage";
import { LeadPage } from "../leads/LeadPage";
import { LeadsPage } from "../leads/LeadsPage";
import { OpportunitiesPage } from "../opportunities/OpportunitiesPage";
import { OpportunityPage } from "../opportunities/OpportunityPage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { PipelineBoardPage } from "../pipeline/PipelineBoardPage";
import { SignInPage } from "../pages/SignInPage";
import { useUser } from "../session/SessionContext";
import { landingPath } from "../session/next";
import { RequireSession } from "../session/RequireSession";
import { AppShell } from "../shell/AppShell";
import { StatementsPage } from "../statements/StatementsPage";
import { TeamPage } from "../team/TeamPage";

function Landing() {
  const user = useUser();
  return <Navigate to={landingPath(user.role)} replace />;
}

/** Every page route; the gateway answers each of these paths with index.html. */
export const routes: RouteObject[] = [
  { path: "/signin", element: <SignInPage /> },
  {
    element: (
      <RequireSession>
        <AppShell />
      </RequireSession>
    ),
    children: [
      { index: true, element: <Landing /> },
      { path: "day", element: <MyDayPage /> },
      { path: "team", element: <TeamPage /> },
      { path: "leads", element: <LeadsPage /> },
      { path: "leads/:leadId", element: <LeadPage /> },
      { path: "accounts", element: <AccountsPage /> },
      { path: "accounts/:accountId", element: <AccountPage /> },
      { path: "opportunities", element: <OpportunitiesPage /> },
      { path: "opportunities/:opportunityId", element: <OpportunityPage /> },
      { path: "board", element: <BoardPage /> },
      { path: "pipeline", element: <PipelineBoardPage /> },
      { path: "knowledge", element: <KnowledgePage /> },
      { path: "knowledge/articles/:articleId", element: <ArticlePage /> },
      { path: "statements", element: <StatementsPage /> },
      { path: "import", element: <ImportPage /> },
      { path: "cockpit", element: <CockpitPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];
