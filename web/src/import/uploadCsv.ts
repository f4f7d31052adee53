// The CSV upload behind the import page: `POST /v1/leads:import` with the file as a text/csv
// body (docs/api.md, "CSV import"). XMLHttpRequest rather than fetch, because only it reports
// the upload's progress; the bearer token and the one retry after a 401 are the API client's.
import { networkProblem, parseProblem, type Problem } from "../api/problem";
import type { TokenSource } from "../api/client";

/** ImportLeadsResponse as the gateway writes it (counts may come as numbers or strings). */
export interface ImportSummary {
  rowsReceived: number;
  created: number;
  flaggedDuplicates: number;
  mergedDuplicates: number;
  rejected: number;
  errors: RowError[];
}

export interface RowError {
  /** The file's physical line the refused row starts on. */
  line: number;
  field: string;
  message: string;
}

export type UploadResult = { ok: true; summary: ImportSummary } | { ok: false; problem: Problem };

function count(value: unknown): number {
  const number = typeof value === "string" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? number : 0;
}

/** The summary in an import's answer; anything missing counts as zero. */
export function parseSummary(body: unknown): ImportSummary {
  const answer = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const errors = Array.isArray(answer.errors) ? answer.errors : [];
  return {
    rowsReceived: count(answer.rows_received),
    created: count(answer.created),
    flaggedDuplicates: count(answer.flagged_duplicates),
    mergedDuplicates: count(answer.merged_duplicates),
    rejected: count(answer.rejected),
    errors: errors.map((error: Record<string, unknown>) => ({
      line: count(error?.line),
      field: typeof error?.field === "string" ? error.field : "",
      message: typeof error?.message === "string" ? error.message : "",
    })),
  };
}

export interface UploadOptions {
  file: Blob;
  campaignId?: string;
  tokens: TokenSource;
  /** Called as the file goes up: bytes sent of the total. */
  onProgress?: (sent: number, total: number) => void;
  /** A test's stand-in for the browser's XMLHttpRequest. */
  xhr?: () => XMLHttpRequest;
}

function headersOf(xhr: XMLHttpRequest): Headers {
  const headers = new Headers();
  for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const at = line.indexOf(":");
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return headers;
}

function send(options: UploadOptions, token: string | undefined): Promise<{ status: number; body: unknown; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const xhr = options.xhr?.() ?? new XMLHttpRequest();
    const query = options.campaignId ? `?campaign_id=${encodeURIComponent(options.campaignId)}` : "";
    xhr.open("POST", `/v1/leads:import${query}`);
    xhr.setRequestHeader("Content-Type", "text/csv; charset=utf-8");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : options.file.size);
    xhr.onload = () => {
      let body: unknown = xhr.responseText;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        // Not JSON (a proxy's page): the status says enough.
      }
      resolve({ status: xhr.status, body, headers: headersOf(xhr) });
    };
    xhr.onerror = () => reject(new Error("the upload did not reach the gateway"));
    xhr.send(options.file);
  });
}

/** Uploads the file and gives the import's summary, or the problem that refused it. */
export async function uploadCsv(options: UploadOptions): Promise<UploadResult> {
  try {
    const sent = await options.tokens.freshAccessToken();
    let answer = await send(options, sent);
    if (answer.status === 401) {
      const token = await options.tokens.refreshAfterUnauthorized(sent);
      if (token) answer = await send(options, token);
    }
    if (answer.status >= 200 && answer.status < 300) return { ok: true, summary: parseSummary(answer.body) };
    return { ok: false, problem: parseProblem(answer.body, { status: answer.status, headers: answer.headers }) };
  } catch (error) {
    return { ok: false, problem: networkProblem(error) };
  }
}
