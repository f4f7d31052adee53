// What the browser tests share: Debian's Chromium driven by playwright-core (no browser
// download), the suite's address and accounts from web/e2e/run, screenshots as artifacts,
// and the checks every page must pass — no Content-Security-Policy violation, no error in the
// console, no serious accessibility finding (axe-core).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests with web/e2e/run`);
  return value;
}

export const baseUrl = () => env("CRM_E2E_BASE_URL");

/** The demo's people (crm demo), who sign in with the demo password. */
export const DEMO_PASSWORD = "northwind-demo-2026";
export const RAVI = { email: "ravi@northwind.example", name: "Ravi" };
export const MEI = { email: "mei@northwind.example", name: "Mei" };
export const OMAR = { email: "omar@northwind.example", name: "Omar" };

export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1366, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: env("CRM_E2E_CHROMIUM"),
    headless: true,
    // Root in a container has no user namespace for the sandbox.
    chromiumSandbox: false,
  });
}

/**
 * A fresh context (its own cookies) and page, in `locale` at `viewport`; the page's CSP
 * violations and console errors are collected in `problems`.
 */
export async function openPage(browser, { locale = "en-US", viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ baseURL: baseUrl(), locale, viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

export async function screenshot(page, name) {
  const file = path.join(env("CRM_E2E_ARTIFACTS"), `${name}.png`);
  // The viewport, as the user sees it: a full-page capture repeats the sticky top bar mid-page.
  await page.screenshot({ path: file });
  return file;
}

export async function signIn(page, email, password = DEMO_PASSWORD) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the page as it is. The script goes in through
 * the DevTools protocol (evaluate), not a <script> tag, which the page's CSP would refuse.
 */
export async function accessibilityViolations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const run = await window.axe.run(document, { resultTypes: ["violations"] });
    return run.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(" ")),
    }));
  });
  return results.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}

/**
 * The API as a demo user, outside the browser: signs in (tokens in the body) and reads and
 * writes JSON, so that a test can set up its own records and compare a page with the API.
 */
export async function apiAs(email, password = DEMO_PASSWORD) {
  const login = await fetch(new URL("/v1/auth:login", baseUrl()), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!login.ok) throw new Error(`signing in as ${email}: HTTP ${login.status} ${await login.text()}`);
  const token = (await login.json()).tokens.access_token;
  const call = async (method, path, body) => {
    const response = await fetch(new URL(path, baseUrl()), {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
  };
}
