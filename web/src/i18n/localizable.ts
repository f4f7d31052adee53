// Texts for people that the API sends as a stable code with parameters beside the English
// (crm.common.v1.LocalizableText; the codes are in docs/api.md). A code with a template under
// `codes.` in en.json / zh.json is shown in the reader's language, its `{parts}` translated and
// joined as a list; any other code shows the API's English `text`.
import type { i18n } from "i18next";
import type { LocalizableText } from "../api/types";
import { localeOf } from "./index";

/** Parameters that decide a template's plural form (i18next's `count`), by precedence. */
const COUNT_PARAMS = ["days_overdue", "days", "count"];

function templateOptions(i18n: i18n, text: LocalizableText): Record<string, unknown> {
  const options: Record<string, unknown> = { ...text.params };
  const countParam = COUNT_PARAMS.find((name) => options[name] !== undefined);
  if (countParam) options.count = Number(options[countParam]);
  const parts = (text.parts ?? []).map((part) => localize(i18n, part));
  if (parts.length > 0) {
    options.parts = new Intl.ListFormat(localeOf(i18n.language), { type: "conjunction" }).format(parts);
  }
  return options;
}

/** Whether the console has its own template for the text's code. */
export function hasTemplate(i18n: i18n, text: LocalizableText | undefined): boolean {
  if (!text?.code) return false;
  return i18n.exists(`codes.${text.code}`, templateOptions(i18n, { ...text, parts: [] }));
}

export function localize(i18n: i18n, text: LocalizableText | undefined): string {
  if (!text) return "";
  if (!hasTemplate(i18n, text)) return text.text ?? "";
  return String(i18n.t(`codes.${text.code}`, templateOptions(i18n, text)));
}
