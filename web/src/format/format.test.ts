import { describe, expect, it } from "vitest";
import { daysFromToday, formatDateTime, formatDay, localDay } from "./date";
import { barPercent, decimalSign, shiftDecimal } from "./decimal";
import { formatDecimal, formatMoney, isMoney } from "./money";

// Intl separates a currency from its digits with a no-break space in some locales.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("money", () => {
  it("formats per locale and currency, with the currency's own minor digits", () => {
    const cny = { amount: "1150000.10", currency_code: "CNY" };
    expect(formatMoney(cny, "en")).toBe("CN¥1,150,000.10");
    expect(formatMoney(cny, "zh-CN")).toBe("¥1,150,000.10");
    expect(formatMoney({ amount: "1200", currency_code: "JPY" }, "en")).toBe("¥1,200");
    expect(formatMoney({ amount: "1200", currency_code: "JPY" }, "zh-CN")).toBe("JP¥1,200");
    expect(plain(formatMoney({ amount: "12.345", currency_code: "KWD" }, "en"))).toBe("KWD 12.345");
    expect(formatMoney({ amount: "-12.5", currency_code: "USD" }, "en")).toBe("-$12.50");
    expect(formatMoney({ amount: "-12.5", currency_code: "USD" }, "zh-CN")).toBe("-US$12.50");
  });

  it("never loses a cent to floating point", () => {
    // 2^53 + 1 and a cent: a float would print ...992.00.
    const big = { amount: "9007199254740993.01", currency_code: "USD" };
    expect(formatMoney(big, "en")).toBe("$9,007,199,254,740,993.01");
    expect(formatMoney({ amount: "0.10", currency_code: "EUR" }, "en")).toBe("€0.10");
  });

  it("prints nothing for no money, rather than a made-up zero", () => {
    expect(formatMoney(undefined, "en")).toBe("");
    expect(formatMoney({ amount: "", currency_code: "CNY" }, "en")).toBe("");
    expect(formatMoney({ amount: "12", currency_code: "" }, "en")).toBe("");
    expect(isMoney({ amount: "12.00", currency_code: "CNY" })).toBe(true);
    expect(isMoney({ amount: 12, currency_code: "CNY" })).toBe(false);
  });

  it("formats compact headline amounts in each language", () => {
    const money = { amount: "1234567.89", currency_code: "CNY" };
    expect(formatMoney(money, "en", { compact: true })).toBe("CN¥1.2M");
    expect(formatMoney(money, "zh-CN", { compact: true })).toBe("¥123.5万");
  });

  it("formats plain decimals in the locale's grouping", () => {
    expect(formatDecimal("1234.5", "en")).toBe("1,234.5");
    expect(formatDecimal("1234.5", "zh-CN")).toBe("1,234.5");
    expect(formatDecimal("not a number", "en")).toBe("");
  });
});

describe("decimal strings", () => {
  it("moves the point without arithmetic", () => {
    expect(shiftDecimal("0.7500", 2)).toBe("75.00");
    expect(shiftDecimal("0.0005", 2)).toBe("0.05");
    expect(shiftDecimal("1", 2)).toBe("100");
    expect(shiftDecimal("-0.125", 2)).toBe("-12.5");
    expect(shiftDecimal("75.27", -2)).toBe("0.7527");
    expect(shiftDecimal("-0.001", 2)).toBe("-0.1");
    expect(shiftDecimal("-0.00", 2)).toBe("0"); // No negative zero.
  });

  it("tells the sign and a bar's width", () => {
    expect(decimalSign("-0.01")).toBe(-1);
    expect(decimalSign("0.000")).toBe(0);
    expect(decimalSign("3")).toBe(1);
    expect(barPercent("112.50")).toBe(100);
    expect(barPercent("75.27")).toBeCloseTo(75.27);
    expect(barPercent(undefined)).toBe(0);
  });
});

describe("dates", () => {
  it("formats calendar days as that day, in each language", () => {
    expect(formatDay("2026-08-31", "en")).toBe("Aug 31, 2026");
    expect(formatDay("2026-08-31", "zh-CN")).toBe("2026年8月31日");
    expect(formatDay("", "en")).toBe("");
  });

  it("formats instants in the zone asked for", () => {
    const instant = "2026-08-03T06:30:00Z";
    expect(plain(formatDateTime(instant, "en", "Asia/Shanghai"))).toBe("Aug 3, 2026, 2:30 PM");
    expect(formatDateTime(instant, "zh-CN", "Asia/Shanghai")).toBe("2026年8月3日 14:30");
  });

  it("counts days from today by the calendar", () => {
    const today = new Date(2026, 7, 3, 23, 30);
    expect(daysFromToday("2026-08-04", today)).toBe(1);
    expect(daysFromToday("2026-08-01", today)).toBe(-2);
    expect(localDay(today)).toBe("2026-08-03");
  });
});
