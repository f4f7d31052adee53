// Dates and times with Intl.DateTimeFormat in the reader's locale and time zone. The API's
// dates ("2026-08-31") are calendar days, not instants: they are formatted as that day,
// never shifted by the reader's UTC offset.

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar day "YYYY-MM-DD" as a Date at local midnight, or undefined. */
export function parseDay(day: string | undefined): Date | undefined {
  const match = day ? DAY.exec(day) : null;
  if (!match) return undefined;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

/** Today in the reader's zone as "YYYY-MM-DD" (what the calendar's `date` takes). */
export function localDay(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "Aug 31, 2026" / "2026年8月31日". */
export function formatDay(day: string | undefined, locale: string): string {
  const date = parseDay(day);
  return date ? new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(date) : "";
}

/** The day of an instant (RFC 3339) in the reader's zone: "Aug 31, 2026". */
export function formatInstantDay(instant: string | undefined, locale: string): string {
  const date = instant ? new Date(instant) : undefined;
  if (!date || Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(date);
}

/** An instant (RFC 3339) as date and time in the reader's zone. */
export function formatDateTime(instant: string | undefined, locale: string, timeZone?: string): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

/** An instant's time of day ("14:30", "2:30 PM"). */
export function formatTime(instant: string | undefined, locale: string, timeZone?: string): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone }).format(date);
}

/** Whole days from today to a calendar day (negative: past), for "in 3 days". */
export function daysFromToday(day: string | undefined, today: Date = new Date()): number | undefined {
  const date = parseDay(day);
  if (!date) return undefined;
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((date.getTime() - start.getTime()) / 86_400_000);
}

/** "in 3 days", "yesterday", "3天后". */
export function formatRelativeDays(days: number, locale: string): string {
  return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day");
}

/** The reader's IANA time zone, for the calendar ("Asia/Shanghai"). */
export function readerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
