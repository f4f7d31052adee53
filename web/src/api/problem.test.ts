import { describe, expect, it } from "vitest";
import { isTransient, parseProblem, parseRetryAfter, problemFromResponse, violationsByField } from "./problem";

const headers = (entries: Record<string, string> = {}) => new Headers(entries);

describe("problem+json", () => {
  it("reads the gateway's problem document with its field violations", () => {
    const problem = parseProblem(
      {
        type: "urn:crm:problem:invalid-argument",
        title: "Bad Request",
        status: 400,
        detail: "account.website: not a website (and 1 more)",
        code: "INVALID_ARGUMENT",
        request_id: "r-42",
        field_violations: [
          { field: "account.website", description: "not a website" },
          { field: "account.name", description: "required" },
          { field: "account.name", description: "at most 200 characters" },
        ],
      },
      { status: 400, headers: headers() },
    );
    expect(problem).toMatchObject({
      type: "urn:crm:problem:invalid-argument",
      title: "Bad Request",
      status: 400,
      code: "INVALID_ARGUMENT",
      requestId: "r-42",
    });
    expect(problem.fieldViolations).toHaveLength(3);
    expect(violationsByField(problem)).toEqual({
      "account.website": "not a website",
      "account.name": "required; at most 200 characters",
    });
  });

  it("keeps a refusal's reason and its localizable text", () => {
    const problem = parseProblem(
      {
        type: "urn:crm:problem:failed-precondition",
        title: "Unprocessable Entity",
        status: 422,
        code: "FAILED_PRECONDITION",
        reason: "CLAIM_CAP_REACHED",
        detail: "claim cap reached: 3 of 3 leads claimed",
        request_id: "r-1",
        text: {
          code: "leads.pool.claim_cap_reached",
          params: { claimed: "3", cap: "3", ignored: 7 },
          text: "claim cap reached: 3 of 3 leads claimed",
        },
      },
      { status: 422, headers: headers() },
    );
    expect(problem.reason).toBe("CLAIM_CAP_REACHED");
    expect(problem.text).toEqual({
      code: "leads.pool.claim_cap_reached",
      params: { claimed: "3", cap: "3" },
      text: "claim cap reached: 3 of 3 leads claimed",
      parts: [],
    });
  });

  it("reads Retry-After of throttling and outages", () => {
    const problem = parseProblem({ status: 429, code: "RESOURCE_EXHAUSTED", detail: "slow down" }, {
      status: 429,
      headers: headers({ "Retry-After": "7" }),
    });
    expect(problem.retryAfterSeconds).toBe(7);
    expect(isTransient(problem)).toBe(true);
    expect(parseRetryAfter("Mon, 03 Aug 2026 09:00:10 GMT", Date.parse("2026-08-03T09:00:00Z"))).toBe(10);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });

  it("makes a problem of a body that is not one (a proxy's error page)", async () => {
    const response = new Response("<html>Bad gateway</html>", {
      status: 502,
      statusText: "Bad Gateway",
      headers: { "Content-Type": "text/html", "X-Request-Id": "edge-9" },
    });
    const problem = await problemFromResponse(response);
    expect(problem).toMatchObject({ status: 502, title: "Bad Gateway", detail: "Bad Gateway", code: "UNKNOWN", requestId: "edge-9" });
    expect(problem.fieldViolations).toEqual([]);
    expect(isTransient(problem)).toBe(false);
  });

  it("names the code from the status when the document has none", () => {
    expect(parseProblem(undefined, { status: 404, headers: headers() }).code).toBe("NOT_FOUND");
    expect(parseProblem(undefined, { status: 503, headers: headers() }).code).toBe("UNAVAILABLE");
  });
});
