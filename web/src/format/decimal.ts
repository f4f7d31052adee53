// The API sends amounts, rates and percentages as decimal strings ("1150000.00", "0.7500",
// "75.27") so that no cent is lost. These helpers only ever move the decimal point or compare
// digits — never parse into a float — and leave the rendering to Intl.NumberFormat, which
// formats a decimal string exactly.

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** Whether `value` is a plain decimal the API would send ("-12.5", "3", "0.7500"). */
export function isDecimal(value: unknown): value is string {
  return typeof value === "string" && DECIMAL.test(value.trim());
}

/** `value` × 10^places, exactly, as a decimal string: "0.7500" shifted by 2 is "75.00". */
export function shiftDecimal(value: string, places: number): string {
  const match = DECIMAL.exec(value.trim());
  if (!match) return value;
  const [, sign = "", whole = "", fraction = ""] = match;
  let digits = whole + fraction;
  let point = whole.length + places;
  if (point <= 0) {
    digits = "0".repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) {
    digits = digits + "0".repeat(point - digits.length);
  }
  const integer = digits.slice(0, point).replace(/^0+(?=\d)/, "");
  const rest = digits.slice(point);
  const negative = sign === "-" && /[1-9]/.test(digits);
  return `${negative ? "-" : ""}${integer}${rest ? `.${rest}` : ""}`;
}

/** -1, 0 or 1 as the decimal is below, at or above zero. */
export function decimalSign(value: string): -1 | 0 | 1 {
  const match = DECIMAL.exec(value.trim());
  if (!match || !/[1-9]/.test(`${match[2]}${match[3] ?? ""}`)) return 0;
  return match[1] === "-" ? -1 : 1;
}

/** How many fraction digits the decimal string shows ("75.20" → 2). */
export function fractionDigits(value: string): number {
  return DECIMAL.exec(value.trim())?.[3]?.length ?? 0;
}

/**
 * A percentage for a progress bar's width, 0 to 100. Display only: the bar's length may be
 * approximate, the number printed beside it is the API's own string.
 */
export function barPercent(percent: string | undefined): number {
  if (!percent || !isDecimal(percent)) return 0;
  return Math.min(100, Math.max(0, Number(percent)));
}

/** The exact sum of decimal strings ("1200.5" + "0.25" = "1200.75"); non-decimals count as 0. */
export function addDecimals(values: readonly string[]): string {
  let places = 0;
  const parsed = values.flatMap((value) => {
    const match = DECIMAL.exec(value.trim());
    if (!match) return [];
    const [, sign = "", whole = "", fraction = ""] = match;
    places = Math.max(places, fraction.length);
    return [{ sign, whole, fraction }];
  });
  let total = 0n;
  for (const { sign, whole, fraction } of parsed) {
    const scaled = BigInt(whole + fraction.padEnd(places, "0"));
    total += sign === "-" ? -scaled : scaled;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(places + 1, "0");
  const integer = digits.slice(0, digits.length - places);
  const rest = digits.slice(digits.length - places);
  return `${negative ? "-" : ""}${integer}${places ? `.${rest}` : ""}`;
}
