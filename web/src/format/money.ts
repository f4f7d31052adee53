// Money as the API gives it: a decimal string and an ISO 4217 code. Intl.NumberFormat formats
// the string itself (ECMA-402 reads a numeric string as an exact decimal), so 1150000.10 CNY
// prints as ¥1,150,000.10 without ever becoming a float.
import { isDecimal } from "./decimal";

/** Money as a decimal string and a currency code. */
export interface MoneyLike {
  amount: string;
  currency_code: string;
}

/** What the generated schema calls Money: a union whose members type loosely (`amount?: unknown`). */
export type MoneyInput = { amount?: unknown; currency_code?: unknown } | null | undefined;

/** Whether an API value the schema leaves loosely typed is a Money. */
export function isMoney(value: unknown): value is MoneyLike {
  const money = value as { amount?: unknown; currency_code?: unknown } | null;
  return (
    typeof money === "object" &&
    money !== null &&
    isDecimal(money.amount) &&
    typeof money.currency_code === "string" &&
    money.currency_code !== ""
  );
}

const formats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

export interface MoneyOptions {
  /** Short form for tight places (¥1.2M, ¥120万): headline figures, chart labels. */
  compact?: boolean;
}

/** "¥1,150,000.00" in zh-CN, "CN¥1,150,000.00" in en; "" for no money. */
export function formatMoney(money: MoneyInput, locale: string, options: MoneyOptions = {}): string {
  if (!isMoney(money)) return "";
  const format = numberFormat(locale, {
    style: "currency",
    currency: money.currency_code,
    ...(options.compact ? { notation: "compact", maximumFractionDigits: 1 } : {}),
  });
  return format.format(money.amount.trim() as Intl.StringNumericLiteral);
}

/** A plain decimal string in the locale's digits and grouping ("4.5", "1,234"). */
export function formatDecimal(value: string | undefined, locale: string, maxFraction = 2): string {
  if (!value || !isDecimal(value)) return "";
  const format = numberFormat(locale, { maximumFractionDigits: maxFraction });
  return format.format(value.trim() as Intl.StringNumericLiteral);
}

/** A count ("1,234"). */
export function formatCount(value: number | undefined, locale: string): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(value ?? 0);
}
