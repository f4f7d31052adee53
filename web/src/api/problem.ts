// The gateway's errors are RFC 9457 problem documents (docs/api.md, "Error model"). This turns
// whatever came back — a problem document, another body, or no answer at all — into one typed
// value, so that pages and forms branch on `status`, `reason` and fields, never on English.
import type { LocalizableText } from "./types";

export interface FieldViolation {
  /** The field path as the request spelt it (`account.website`), `body`, or a query parameter. */
  field: string;
  description: string;
}

export interface Problem {
  type: string;
  title: string;
  /** The HTTP status; 0 when the server could not be reached at all. */
  status: number;
  detail: string;
  /** The gRPC code name (`INVALID_ARGUMENT`), or `NETWORK` when there was no answer. */
  code: string;
  /** The stable refusal reason (`CLAIM_CAP_REACHED`), when the service gave one. */
  reason?: string;
  requestId?: string;
  fieldViolations: FieldViolation[];
  /** The refusal's text code and parameters, to show `detail` in the reader's language. */
  text?: LocalizableText;
  /** Seconds from `Retry-After` (429 and 503 always carry it). */
  retryAfterSeconds?: number;
}

/** A failed API call, thrown so that TanStack Query and forms see one kind of error. */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.name = "ApiError";
    this.problem = problem;
  }
}

const STATUS_CODES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  422: "FAILED_PRECONDITION",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function localizable(value: unknown): LocalizableText | undefined {
  if (!isRecord(value)) return undefined;
  const params: Record<string, string> = {};
  if (isRecord(value.params)) {
    for (const [key, param] of Object.entries(value.params)) {
      if (typeof param === "string") params[key] = param;
    }
  }
  const parts = Array.isArray(value.parts)
    ? value.parts.map(localizable).filter((part): part is LocalizableText => part !== undefined)
    : [];
  return { code: text(value.code) ?? "", params, text: text(value.text) ?? "", parts };
}

function violations(value: unknown): FieldViolation[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) =>
    isRecord(item) && typeof item.field === "string"
      ? [{ field: item.field, description: text(item.description) ?? "" }]
      : [],
  );
}

/** Seconds from a `Retry-After` header: delta-seconds, or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The problem a failed response carries. `body` is its parsed JSON (or its text when it was
 * not JSON: a proxy's HTML page); a body that is not a problem document still gives a problem
 * with the HTTP status, so callers never have to look at raw bodies.
 */
export function parseProblem(
  body: unknown,
  response: { status: number; statusText?: string; headers: Headers },
): Problem {
  const document = isRecord(body) ? body : {};
  const status = typeof document.status === "number" ? document.status : response.status;
  const title = text(document.title) ?? response.statusText ?? "";
  const retryAfterSeconds = parseRetryAfter(response.headers.get("Retry-After"));
  const problem: Problem = {
    type: text(document.type) ?? "about:blank",
    title,
    status,
    detail: text(document.detail) ?? title,
    code: text(document.code) ?? STATUS_CODES[status] ?? "UNKNOWN",
    fieldViolations: violations(document.field_violations),
  };
  const reason = text(document.reason);
  if (reason) problem.reason = reason;
  const requestId = text(document.request_id) ?? response.headers.get("X-Request-Id");
  if (requestId) problem.requestId = requestId;
  const refusal = localizable(document.text);
  if (refusal?.code) problem.text = refusal;
  if (retryAfterSeconds !== undefined) problem.retryAfterSeconds = retryAfterSeconds;
  return problem;
}

/** Reads a failed `Response` whose body has not been consumed yet. */
export async function problemFromResponse(response: Response): Promise<Problem> {
  const raw = await response.text().catch(() => "");
  let body: unknown = raw;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    // Not JSON: keep the status only.
  }
  return parseProblem(body, response);
}

/** The problem of a call that got no answer (offline, DNS, the gateway down). */
export function networkProblem(cause: unknown): Problem {
  return {
    type: "about:blank",
    title: "Network error",
    status: 0,
    detail: cause instanceof Error ? cause.message : String(cause),
    code: "NETWORK",
    fieldViolations: [],
  };
}

/** Field violations by field path, for forms that show each next to its input. */
export function violationsByField(problem: Problem | undefined): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const violation of problem?.fieldViolations ?? []) {
    byField[violation.field] = byField[violation.field]
      ? `${byField[violation.field]}; ${violation.description}`
      : violation.description;
  }
  return byField;
}

/** Whether TanStack Query should try again: outages, throttling and lost connections only. */
export function isTransient(problem: Problem): boolean {
  return problem.status === 503 || problem.status === 429 || problem.status === 0;
}
