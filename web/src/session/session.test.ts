import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { json, problem, REP, stubFetch, tokens } from "../test/fetchStub";
import { refreshDelay, REFRESH_LEAD_MS, Session } from "./session";

const TTL = 15 * 60_000;

function session(fetch: typeof globalThis.fetch, loadUser = vi.fn(async () => REP)) {
  return new Session({ fetch, loadUser });
}

describe("Session", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-08-03T09:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("signs in with the cookie mode header and keeps the user of the answer", async () => {
    const { fetch, calls } = stubFetch({ "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })] });
    const s = session(fetch);
    const result = await s.login("li.na@example.com", "correct horse");
    expect(result).toEqual({ ok: true, user: REP });
    expect(s.getState()).toEqual({ status: "signed-in", user: REP });
    expect(calls[0]?.headers.get("X-CRM-Session")).toBe("cookie");
    expect(JSON.parse(calls[0]!.body)).toEqual({ email: "li.na@example.com", password: "correct horse" });
    expect(await s.freshAccessToken()).toBe("a1");
  });

  it("answers a refused sign-in with its problem", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [problem(401, { code: "UNAUTHENTICATED" })] });
    const result = await session(fetch).login("x@example.com", "nope");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem.status).toBe(401);
  });

  it("restores a session after a reload: refresh, then GetMe", async () => {
    const { fetch, calls } = stubFetch({ "POST /v1/auth:refresh": [json(tokens("a1", TTL))] });
    const loadUser = vi.fn(async () => REP);
    const s = session(fetch, loadUser);
    await s.restore();
    expect(s.getState()).toEqual({ status: "signed-in", user: REP });
    expect(loadUser).toHaveBeenCalledOnce();
    expect(calls[0]).toMatchObject({ method: "POST", path: "/v1/auth:refresh", body: "{}" });
    expect(calls[0]?.headers.get("X-CRM-Session")).toBe("cookie");
  });

  it("is signed out after a reload when the refresh is refused", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:refresh": [problem(401)] });
    const s = session(fetch);
    await s.restore();
    expect(s.getState()).toEqual({ status: "signed-out", reason: "initial" });
  });

  it("keeps restoring through an outage, waiting out Retry-After", async () => {
    const { fetch, calls } = stubFetch({
      "POST /v1/auth:refresh": [problem(503, {}, { "Retry-After": "2" }), json(tokens("a1", TTL))],
    });
    const s = session(fetch);
    const restoring = s.restore();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.getState()).toMatchObject({ status: "restoring", problem: { status: 503 } });
    await vi.advanceTimersByTimeAsync(2_000);
    await restoring;
    expect(s.getState().status).toBe("signed-in");
    expect(calls).toHaveLength(2);
  });

  it("refreshes a minute before the access token expires", async () => {
    const { fetch, calls } = stubFetch({
      "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })],
      "POST /v1/auth:refresh": [json(tokens("a2", TTL))],
    });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    await vi.advanceTimersByTimeAsync(TTL - REFRESH_LEAD_MS - 1);
    expect(calls.filter((call) => call.path === "/v1/auth:refresh")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.filter((call) => call.path === "/v1/auth:refresh")).toHaveLength(1);
    expect(await s.freshAccessToken()).toBe("a2");
  });

  it("refreshes short-lived tokens halfway", () => {
    expect(refreshDelay(15 * 60_000)).toBe(14 * 60_000);
    expect(refreshDelay(90_000)).toBe(45_000);
  });

  it("sends one refresh for calls that ask at once", async () => {
    let release: (response: Response) => void = () => {};
    const { fetch, calls } = stubFetch({
      "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })],
      "POST /v1/auth:refresh": [() => new Promise<Response>((resolve) => (release = resolve))],
    });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    const asked = [s.refreshAfterUnauthorized("a1"), s.refreshAfterUnauthorized("a1"), s.refresh()];
    await vi.advanceTimersByTimeAsync(0);
    release(json(tokens("a2", TTL)));
    expect(await Promise.all(asked)).toEqual(["a2", "a2", "a2"]);
    expect(calls.filter((call) => call.path === "/v1/auth:refresh")).toHaveLength(1);
    // A 401 for a call sent with the old token, arriving after the refresh, needs no new one.
    expect(await s.refreshAfterUnauthorized("a1")).toBe("a2");
    expect(calls.filter((call) => call.path === "/v1/auth:refresh")).toHaveLength(1);
  });

  it("ends the session when a refresh is refused", async () => {
    const { fetch } = stubFetch({
      "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })],
      "POST /v1/auth:refresh": [problem(401)],
    });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    expect(await s.refreshAfterUnauthorized("a1")).toBeNull();
    expect(s.getState()).toEqual({ status: "signed-out", reason: "expired" });
    expect(await s.freshAccessToken()).toBeUndefined();
  });

  it("keeps the session through a failed refresh and tries again soon", async () => {
    const { fetch, calls } = stubFetch({
      "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })],
      "POST /v1/auth:refresh": [problem(503, {}, { "Retry-After": "2" }), json(tokens("a2", TTL))],
    });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    expect(await s.refresh()).toBeNull();
    expect(s.getState().status).toBe("signed-in");
    await vi.advanceTimersByTimeAsync(15_000);
    expect(calls.filter((call) => call.path === "/v1/auth:refresh")).toHaveLength(2);
    expect(await s.freshAccessToken()).toBe("a2");
  });

  it("signs out: tells the gateway, forgets the token, stops refreshing", async () => {
    const { fetch, calls } = stubFetch({
      "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })],
      "POST /v1/auth:logout": [json({})],
    });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    await s.logout();
    expect(s.getState()).toEqual({ status: "signed-out", reason: "signed-out" });
    expect(await s.freshAccessToken()).toBeUndefined();
    const logout = calls.find((call) => call.path === "/v1/auth:logout");
    expect(logout?.headers.get("X-CRM-Session")).toBe("cookie");
    expect(logout?.body).toBe("{}");
    await vi.advanceTimersByTimeAsync(TTL);
    expect(calls.some((call) => call.path === "/v1/auth:refresh")).toBe(false);
  });

  it("signs out even when the gateway cannot be reached", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [json({ ...tokens("a1", TTL), user: REP })] });
    const s = session(fetch);
    await s.login("li.na@example.com", "pw");
    await s.logout(); // No stubbed answer: the call throws.
    expect(s.getState().status).toBe("signed-out");
  });

  it("never writes the token to web storage", async () => {
    const { fetch } = stubFetch({ "POST /v1/auth:login": [json({ ...tokens("secret-token", TTL), user: REP })] });
    await session(fetch).login("li.na@example.com", "pw");
    const stored = [...Object.values(localStorage), ...Object.values(sessionStorage)].join(" ");
    expect(stored).not.toContain("secret-token");
  });
});
