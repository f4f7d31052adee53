import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { problem, stubFetch } from "../test/fetchStub";
import { renderConsole } from "../test/render";
import { RequireSession } from "./RequireSession";

describe("the signed-in part of the console", () => {
  it("waits while the session is restored", async () => {
    const { fetch } = stubFetch({});
    await renderConsole(<RequireSession>inside</RequireSession>, { fetch, path: "/day" });
    expect(screen.getByRole("status").textContent).toBe("Opening your session…");
  });

  it("sends a signed-out visitor to sign in, remembering the page", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:refresh": [problem(401)] });
    const { session, router } = await renderConsole(<RequireSession>inside</RequireSession>, {
      fetch,
      path: "/leads/:id",
      entry: "/leads/42?tab=history",
    });
    await session.restore();
    await screen.findByText("elsewhere");
    expect(router.state.location.pathname).toBe("/signin");
    expect(router.state.location.search).toBe(`?next=${encodeURIComponent("/leads/42?tab=history")}`);
  });

  it("shows the page once signed in", async () => {
    const { fetch } = stubFetch({});
    await renderConsole(<RequireSession>inside</RequireSession>, { fetch, path: "/day", signedIn: true });
    expect(screen.getByText("inside")).toBeTruthy();
  });
});
