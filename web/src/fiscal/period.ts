// The organisation's fiscal calendar (OrgSettings: `fiscal_year_start_month`,
// `fiscal_year_naming`), mirrored from crm_platform::fiscal so the console can name the
// period it asks forecasting and compensation about: the API takes period labels ("2026-08",
// "FY2027-Q1", "FY2027") and offers no call that answers "which period is today in".
import type { OrgSettings } from "../api/types";

export type PeriodKind = "month" | "quarter" | "year";

export interface FiscalCalendar {
  /** 1..12: the month the fiscal year starts on the first of. */
  startMonth: number;
  /** Which calendar year names a fiscal year that spans two. */
  naming: "starting-year" | "ending-year";
}

export interface FiscalPeriod {
  kind: PeriodKind;
  label: string;
  /** First and last calendar month, "YYYY-MM" (what the funnel's MonthRange takes). */
  fromMonth: string;
  toMonth: string;
}

export function calendarOf(settings: OrgSettings | undefined): FiscalCalendar {
  const month = settings?.fiscal_year_start_month ?? 0;
  return {
    startMonth: month >= 1 && month <= 12 ? month : 1,
    naming: settings?.fiscal_year_naming === "FISCAL_YEAR_NAMING_ENDING_YEAR" ? "ending-year" : "starting-year",
  };
}

const MONTHS: Record<PeriodKind, number> = { month: 1, quarter: 3, year: 12 };

function monthLabel(year: number, month: number): string {
  return `${year}-${String(month).padStart(2, "0")}`;
}

/** Calendar (year, month 1..12) `offset` months after the given one. */
function addMonths(year: number, month: number, offset: number): [number, number] {
  const index = year * 12 + (month - 1) + offset;
  return [Math.floor(index / 12), (index % 12) + 1];
}

/** The period of `kind` holding the calendar day `date` (local), in `calendar`. */
export function periodOf(calendar: FiscalCalendar, kind: PeriodKind, date: Date): FiscalPeriod {
  const year = date.getFullYear();
  const month = date.getMonth() + 1;
  const startYear = month >= calendar.startMonth ? year : year - 1;
  const monthsIn = (year - startYear) * 12 + month - calendar.startMonth;
  const index = Math.floor(monthsIn / MONTHS[kind]);
  const [fromYear, fromMonth] = addMonths(startYear, calendar.startMonth, index * MONTHS[kind]);
  const [toYear, toMonth] = addMonths(fromYear, fromMonth, MONTHS[kind] - 1);
  const fiscalYear =
    calendar.naming === "ending-year" && calendar.startMonth > 1 ? startYear + 1 : startYear;
  const label =
    kind === "month"
      ? monthLabel(fromYear, fromMonth)
      : kind === "quarter"
        ? `FY${fiscalYear}-Q${index + 1}`
        : `FY${fiscalYear}`;
  return { kind, label, fromMonth: monthLabel(fromYear, fromMonth), toMonth: monthLabel(toYear, toMonth) };
}
