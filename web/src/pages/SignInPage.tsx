import { useEffect, useId, useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { violationsByField, type Problem } from "../api/problem";
import { useSession, useSessionState } from "../session/SessionContext";
import { landingPath, safeNext } from "../session/next";
import { LanguageSwitch } from "../shell/LanguageSwitch";
import { problemDetail } from "../ui/problemText";
import "./signin.css";

type FieldErrors = Partial<Record<"email" | "password", string>>;

/** What a failed sign-in tells the user: per field for a 400, one sentence otherwise. */
function describe(problem: Problem, t: TFunction, detail: string) {
  const byField = violationsByField(problem);
  const fields: FieldErrors = {};
  if (byField.email) fields.email = byField.email;
  if (byField.password) fields.password = byField.password;
  const others = Object.entries(byField).filter(([field]) => field !== "email" && field !== "password");
  let form: string | undefined;
  if (problem.status === 401) form = t("signin.wrongCredentials");
  else if (problem.status === 429) form = t("signin.throttled", { count: problem.retryAfterSeconds ?? 1 });
  else if (problem.status === 0) form = t("problem.network");
  else if (problem.status === 503) form = t("problem.unavailable");
  else if (problem.status !== 400 || others.length > 0) form = others.map(([, text]) => text).join("; ") || detail;
  return { fields, form };
}

export function SignInPage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const state = useSessionState();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const emailId = useId();
  const passwordId = useId();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [blockedUntil, setBlockedUntil] = useState(0);
  const next = safeNext(params.get("next"));
  const expired = (location.state as { reason?: string } | null)?.reason === "expired";

  // After a 429, the button waits out Retry-After rather than invite another refusal.
  useEffect(() => {
    if (blockedUntil <= Date.now()) return;
    const timer = setTimeout(() => setBlockedUntil(0), blockedUntil - Date.now());
    return () => clearTimeout(timer);
  }, [blockedUntil]);

  if (state.status === "signed-in") {
    return <Navigate to={next ?? landingPath(state.user.role)} replace />;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const missing: FieldErrors = {};
    if (!email.trim()) missing.email = t("signin.emailRequired");
    if (!password) missing.password = t("signin.passwordRequired");
    setFieldErrors(missing);
    setFormError(undefined);
    if (missing.email || missing.password) return;
    setBusy(true);
    const result = await session.login(email.trim(), password);
    setBusy(false);
    if (result.ok) {
      navigate(next ?? landingPath(result.user.role), { replace: true });
      return;
    }
    const { fields, form } = describe(result.problem, t, problemDetail(i18n, result.problem));
    setFieldErrors(fields);
    setFormError(form);
    if (result.problem.status === 429) {
      setBlockedUntil(Date.now() + (result.problem.retryAfterSeconds ?? 1) * 1000);
    }
  }

  const errorId = (id: string) => `${id}-error`;
  return (
    <div className="signin">
      <div className="signin-language">
        <LanguageSwitch />
      </div>
      <main className="signin-panel" aria-labelledby="signin-title">
        <p className="signin-brand">{t("app.name")}</p>
        <h1 id="signin-title" className="signin-title">
          {t("signin.title")}
        </h1>
        {expired && <p className="notice" role="status">{t("signin.sessionEnded")}</p>}
        <form className="form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={emailId}>{t("signin.email")}</label>
            <input
              id={emailId}
              type="email"
              name="email"
              autoComplete="username"
              inputMode="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              aria-invalid={fieldErrors.email ? true : undefined}
              aria-describedby={fieldErrors.email ? errorId(emailId) : undefined}
            />
            {fieldErrors.email && (
              <p id={errorId(emailId)} className="field-error">
                {fieldErrors.email}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={passwordId}>{t("signin.password")}</label>
            <input
              id={passwordId}
              type="password"
              name="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              aria-invalid={fieldErrors.password ? true : undefined}
              aria-describedby={fieldErrors.password ? errorId(passwordId) : undefined}
            />
            {fieldErrors.password && (
              <p id={errorId(passwordId)} className="field-error">
                {fieldErrors.password}
              </p>
            )}
          </div>
          {formError && (
            <p className="form-error" role="alert">
              {formError}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={busy || blockedUntil > 0}>
            {busy ? t("signin.signingIn") : t("signin.submit")}
          </button>
        </form>
      </main>
    </div>
  );
}
