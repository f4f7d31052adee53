import { describe, expect, it } from "vitest";
import { parseSummary, uploadCsv } from "./uploadCsv";

/** Just enough of XMLHttpRequest: records what was sent, answers with `status` and `body`. */
function fakeXhr(answers: { status: number; body: string; headers?: string }[], sent: { headers: Record<string, string>; url: string }[]) {
  return () => {
    const answer = answers.shift()!;
    const request = {
      status: 0,
      responseText: "",
      headers: {} as Record<string, string>,
      url: "",
      upload: { onprogress: null as ((event: ProgressEvent) => void) | null },
      onload: null as (() => void) | null,
      onerror: null as (() => void) | null,
      open(_method: string, url: string) {
        request.url = url;
      },
      setRequestHeader(name: string, value: string) {
        request.headers[name] = value;
      },
      getAllResponseHeaders: () => answer.headers ?? "content-type: application/json\r\n",
      send(file: Blob) {
        sent.push({ headers: request.headers, url: request.url });
        request.upload.onprogress?.({ loaded: file.size / 2, total: file.size, lengthComputable: true } as ProgressEvent);
        request.upload.onprogress?.({ loaded: file.size, total: file.size, lengthComputable: true } as ProgressEvent);
        request.status = answer.status;
        request.responseText = answer.body;
        request.onload?.();
      },
    };
    return request as unknown as XMLHttpRequest;
  };
}

const file = new Blob(["name,email\nAda,ada@example.com\n"], { type: "text/csv" });

describe("the CSV upload", () => {
  it("sends the file with the token and the campaign, reports progress and reads the summary", async () => {
    const sent: { headers: Record<string, string>; url: string }[] = [];
    const progress: number[] = [];
    const result = await uploadCsv({
      file,
      campaignId: "c 1",
      tokens: { freshAccessToken: async () => "t1", refreshAfterUnauthorized: async () => null },
      onProgress: (loaded, total) => progress.push(loaded / total),
      xhr: fakeXhr(
        [{ status: 200, body: JSON.stringify({ rows_received: "3", created: 2, rejected: 1, errors: [{ line: 3, field: "row.email", message: "not an email" }] }) }],
        sent,
      ),
    });
    expect(sent[0]?.url).toBe("/v1/leads:import?campaign_id=c%201");
    expect(sent[0]?.headers.Authorization).toBe("Bearer t1");
    expect(sent[0]?.headers["Content-Type"]).toBe("text/csv; charset=utf-8");
    expect(progress).toEqual([0.5, 1]);
    expect(result).toEqual({
      ok: true,
      summary: {
        rowsReceived: 3,
        created: 2,
        flaggedDuplicates: 0,
        mergedDuplicates: 0,
        rejected: 1,
        errors: [{ line: 3, field: "row.email", message: "not an email" }],
      },
    });
  });

  it("refreshes once after a 401 and sends the file again", async () => {
    const sent: { headers: Record<string, string>; url: string }[] = [];
    const result = await uploadCsv({
      file,
      tokens: { freshAccessToken: async () => "old", refreshAfterUnauthorized: async () => "new" },
      xhr: fakeXhr([{ status: 401, body: "{}" }, { status: 200, body: JSON.stringify({ created: 1 }) }], sent),
    });
    expect(sent.map((request) => request.headers.Authorization)).toEqual(["Bearer old", "Bearer new"]);
    expect(result.ok && result.summary.created).toBe(1);
  });

  it("gives the problem of a refused file", async () => {
    const result = await uploadCsv({
      file,
      tokens: { freshAccessToken: async () => "t", refreshAfterUnauthorized: async () => null },
      xhr: fakeXhr(
        [
          {
            status: 400,
            body: JSON.stringify({ status: 400, code: "INVALID_ARGUMENT", detail: "line 4: not UTF-8", field_violations: [{ field: "body", description: "line 4" }] }),
            headers: "content-type: application/problem+json\r\nx-request-id: r-9\r\n",
          },
        ],
        [],
      ),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem.detail).toBe("line 4: not UTF-8");
      expect(result.problem.requestId).toBe("r-9");
      expect(result.problem.fieldViolations).toEqual([{ field: "body", description: "line 4" }]);
    }
  });

  it("counts what is missing as zero", () => {
    expect(parseSummary(undefined)).toEqual({ rowsReceived: 0, created: 0, flaggedDuplicates: 0, mergedDuplicates: 0, rejected: 0, errors: [] });
  });
});
