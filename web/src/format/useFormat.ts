import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { localeOf } from "../i18n";
import { formatDateTime, formatDay, formatInstantDay, formatRelativeDays, formatTime } from "./date";
import { isDecimal, shiftDecimal } from "./decimal";
import { formatCount, formatDecimal, formatMoney, type MoneyInput, type MoneyOptions } from "./money";

/** Formatters in the UI's current language. */
export function useFormat() {
  const { i18n, t } = useTranslation();
  const locale = localeOf(i18n.language);
  return useMemo(() => {
    /** "75.27" (a percentage as the API gives it) → "75.27%". */
    const percent = (value: string | undefined, maxFraction = 2): string =>
      value && isDecimal(value) ? t("format.percent", { value: formatDecimal(value, locale, maxFraction) }) : "";
    return {
      locale,
      money: (money: MoneyInput, options?: MoneyOptions) => formatMoney(money, locale, options),
      decimal: (value: string | undefined, maxFraction?: number) => formatDecimal(value, locale, maxFraction),
      count: (value: number | undefined) => formatCount(value, locale),
      percent,
      /** "0.7500" (a ratio) → "75%": the point moved in the string, not by multiplying a float. */
      ratio: (value: string | undefined, maxFraction = 1) =>
        value && isDecimal(value) ? percent(shiftDecimal(value, 2), maxFraction) : "",
      day: (day: string | undefined) => formatDay(day, locale),
      instantDay: (instant: string | undefined) => formatInstantDay(instant, locale),
      dateTime: (instant: string | undefined) => formatDateTime(instant, locale),
      time: (instant: string | undefined, timeZone?: string) => formatTime(instant, locale, timeZone),
      relativeDays: (days: number) => formatRelativeDays(days, locale),
    };
  }, [locale, t]);
}
