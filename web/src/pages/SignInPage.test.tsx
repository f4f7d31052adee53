import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, problem, REP, stubFetch, tokens } from "../test/fetchStub";
import { renderConsole } from "../test/render";
import { SignInPage } from "./SignInPage";

async function signIn(email: string, password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText(/email|邮箱/i), email);
  await user.type(screen.getByLabelText(/password|密码/i), password);
  await user.click(screen.getByRole("button", { name: /sign in|登录/i }));
}

describe("the sign-in form", () => {
  it("shows a 400 problem's field errors next to their fields", async () => {
    const { fetch } = stubFetch({
      "POST /v1/auth:login": [
        problem(400, {
          code: "INVALID_ARGUMENT",
          detail: "email: not an email address",
          field_violations: [{ field: "email", description: "not an email address" }],
        }),
      ],
    });
    await renderConsole(<SignInPage />, { fetch, path: "/signin" });
    await signIn("li.na@", "correct horse battery");

    const email = screen.getByLabelText("Email");
    const error = await screen.findByText("not an email address");
    expect(email.getAttribute("aria-invalid")).toBe("true");
    expect(email.getAttribute("aria-describedby")).toBe(error.id);
    expect(screen.getByLabelText("Password").getAttribute("aria-invalid")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull(); // Nothing beyond the field's own error.
  });

  it("says wrong email or password for a 401, in the UI's language", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [problem(401, { code: "UNAUTHENTICATED", reason: "BAD_LOGIN" })] });
    await renderConsole(<SignInPage />, { fetch, path: "/signin", language: "zh" });
    await signIn("li.na@example.com", "wrong");
    expect((await screen.findByRole("alert")).textContent).toBe("邮箱或密码错误。");
  });

  it("says when to try again after a 429 and holds the button until then", async () => {
    const { fetch } = stubFetch({
      "POST /v1/auth:login": [problem(429, { code: "RESOURCE_EXHAUSTED" }, { "Retry-After": "30" })],
    });
    await renderConsole(<SignInPage />, { fetch, path: "/signin" });
    await signIn("li.na@example.com", "pw");
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Try again in 30 seconds.");
    expect(screen.getByRole("button", { name: "Sign in" }).hasAttribute("disabled")).toBe(true);
  });

  it("asks for both fields before calling the gateway", async () => {
    const { fetch, calls } = stubFetch({});
    await renderConsole(<SignInPage />, { fetch, path: "/signin" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByText("Enter your email address.")).toBeTruthy();
    expect(screen.getByText("Enter your password.")).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("goes to the page the user was on after signing in", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [json({ ...tokens("a1", 15 * 60_000), user: REP })] });
    const { router, session } = await renderConsole(<SignInPage />, {
      fetch,
      path: "/signin",
      entry: "/signin?next=%2Fleads%2F42",
    });
    await signIn(REP.email, "correct horse battery");
    expect(await screen.findByText("elsewhere")).toBeTruthy();
    expect(router.state.location.pathname).toBe("/leads/42");
    expect(session.getState()).toEqual({ status: "signed-in", user: REP });
  });

  it("never follows a next address off this site", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [json({ ...tokens("a1", 15 * 60_000), user: REP })] });
    const { router } = await renderConsole(<SignInPage />, { fetch, path: "/signin", entry: "/signin?next=%2F%2Fevil.example" });
    await signIn(REP.email, "correct horse battery");
    await screen.findByText("elsewhere");
    expect(router.state.location.pathname).toBe("/day");
  });
});
