import { describe, expect, it, vi } from "vitest";
import { json, problem, stubFetch } from "../test/fetchStub";
import { ApiError } from "./problem";
import { createApiClient, data, type TokenSource } from "./client";

function tokenSource(current: string, next: string | null): TokenSource & { refreshes: number } {
  const source = {
    refreshes: 0,
    token: current,
    freshAccessToken: async () => source.token,
    refreshAfterUnauthorized: vi.fn(async () => {
      source.refreshes += 1;
      if (next) source.token = next;
      return next;
    }),
  };
  return source;
}

describe("the API client", () => {
  it("sends the access token as a bearer token", async () => {
    const { fetch, calls } = stubFetch({ "GET /v1/me": [json({ user: { id: "u1" } })] });
    const api = createApiClient(tokenSource("a1", null), fetch);
    expect(await data(api.GET("/v1/me"))).toEqual({ user: { id: "u1" } });
    expect(calls[0]?.headers.get("Authorization")).toBe("Bearer a1");
  });

  it("refreshes once on a 401 and retries the call with the new token", async () => {
    const { fetch, calls } = stubFetch({
      "POST /v1/tasks/t1:complete": [problem(401), json({ task: { id: "t1", completed: true } })],
    });
    const tokens = tokenSource("a1", "a2");
    const api = createApiClient(tokens, fetch);
    const answer = await data(
      api.POST("/v1/tasks/{task_id}:complete", { params: { path: { task_id: "t1" } }, body: {} }),
    );
    expect(answer.task?.completed).toBe(true);
    expect(tokens.refreshAfterUnauthorized).toHaveBeenCalledWith("a1");
    expect(calls.map((call) => call.headers.get("Authorization"))).toEqual(["Bearer a1", "Bearer a2"]);
    // The retry carries the same body: the first request's was spent.
    expect(calls[1]?.body).toBe(calls[0]?.body);
  });

  it("retries only once: a second 401 is the answer", async () => {
    const { fetch, calls } = stubFetch({ "GET /v1/me": [problem(401), problem(401)] });
    const tokens = tokenSource("a1", "a2");
    const api = createApiClient(tokens, fetch);
    await expect(data(api.GET("/v1/me"))).rejects.toMatchObject({ problem: { status: 401 } });
    expect(calls).toHaveLength(2);
    expect(tokens.refreshes).toBe(1);
  });

  it("lets the 401 stand when the session cannot be refreshed", async () => {
    const { fetch, calls } = stubFetch({ "GET /v1/me": [problem(401)] });
    const api = createApiClient(tokenSource("a1", null), fetch);
    await expect(data(api.GET("/v1/me"))).rejects.toBeInstanceOf(ApiError);
    expect(calls).toHaveLength(1);
  });

  it("turns a failed call into an ApiError with the problem and Retry-After", async () => {
    const { fetch } = stubFetch({ "GET /v1/me": [problem(503, { code: "UNAVAILABLE" }, { "Retry-After": "2" })] });
    const api = createApiClient(tokenSource("a1", null), fetch);
    const error = await data(api.GET("/v1/me")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).problem).toMatchObject({ status: 503, code: "UNAVAILABLE", retryAfterSeconds: 2 });
  });

  it("turns no answer at all into a network problem", async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof globalThis.fetch;
    const api = createApiClient(tokenSource("a1", null), fetch);
    await expect(data(api.GET("/v1/me"))).rejects.toMatchObject({ problem: { status: 0, code: "NETWORK" } });
  });
});
