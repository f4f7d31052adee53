// Signing in and out in a real browser against the running suite: the demo's rep and manager,
// the session kept across a reload by the HttpOnly cookie, English and Chinese, phone and
// desktop, under the page's CSP and with no serious accessibility finding.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  DESKTOP,
  MEI,
  PHONE,
  RAVI,
  accessibilityViolations,
  launch,
  openPage,
  screenshot,
  signIn,
} from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the sign-in page refuses a wrong password and passes the accessibility check", async () => {
  const { context, page, problems } = await openPage(browser);
  await page.goto("/day");
  // Not signed in: sent to sign in, remembering where the user was going.
  await page.waitForURL(/\/signin/);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.deepEqual(await accessibilityViolations(page), []);
  await screenshot(page, "signin-desktop");

  await page.getByLabel("Email").fill(RAVI.email);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
  // The refused sign-in is a 401 the page handles; only that request may log an error.
  assert.deepEqual(
    problems.filter((problem) => !problem.includes("401")),
    [],
  );
  await context.close();
});

test("a rep signs in to My day, keeps the session across a reload, and signs out", async () => {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, RAVI.email);
  await page.waitForURL(/\/day$/);
  // The page greets the rep by name.
  await page.getByRole("heading", { name: new RegExp(RAVI.name), level: 1 }).waitFor();
  // Let every card's query settle before judging the page.
  await page.waitForLoadState("networkidle");
  await screenshot(page, "my-day-rep-desktop");
  assert.deepEqual(await accessibilityViolations(page), []);

  // The refresh token is out of the script's reach; the cookie still restores the session.
  assert.equal(await page.evaluate(() => document.cookie.includes("crm_refresh")), false);
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === "crm_refresh");
  assert.ok(session, "the session cookie is set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(session.path, "/v1/");
  await page.reload();
  await page.getByRole("heading", { name: new RegExp(RAVI.name), level: 1 }).waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
  assert.equal(
    (await context.cookies()).some((cookie) => cookie.name === "crm_refresh" && cookie.value),
    false,
  );
  // Signed out for real: a reload does not bring the session back.
  await page.goto("/day");
  await page.waitForURL(/\/signin/);
  assert.deepEqual(problems.filter((problem) => !problem.includes("401")), []);
  await context.close();
});

test("My day works on a phone, in Chinese", async () => {
  const { context, page, problems } = await openPage(browser, { locale: "zh-CN", viewport: PHONE });
  await page.goto("/signin");
  await page.getByRole("heading", { name: "登录" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "zh-CN");
  await page.locator('input[type="email"]').fill(RAVI.email);
  await page.locator('input[type="password"]').fill("northwind-demo-2026");
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(/\/day$/);
  await page.waitForLoadState("networkidle");
  // Nothing wider than the phone's screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await screenshot(page, "my-day-rep-phone-zh");
  assert.deepEqual(problems.filter((problem) => !problem.includes("401")), []);
  await context.close();
});

test("the manager signs in and lands on the team's page", async () => {
  const { context, page, problems } = await openPage(browser, { viewport: DESKTOP });
  await signIn(page, MEI.email);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.getByText(MEI.name).first().waitFor();
  await page.waitForLoadState("networkidle");
  await screenshot(page, "manager-landing-desktop");
  assert.deepEqual(problems.filter((problem) => !problem.includes("401")), []);
  await context.close();
});
