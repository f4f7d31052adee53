import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import en from "./en.json";
import zh from "./zh.json";
import { createI18n, detectLanguage, localeOf } from "./index";
import { localize } from "./localizable";

function keys(tree: unknown, prefix = ""): string[] {
  if (typeof tree !== "object" || tree === null) return [prefix];
  return Object.entries(tree).flatMap(([key, value]) => keys(value, prefix ? `${prefix}.${key}` : key));
}

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name: string) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

describe("translations", () => {
  it("have the same keys in English and Chinese", () => {
    expect(keys(zh).sort()).toEqual(keys(en).sort());
  });

  it("have no empty text", () => {
    for (const [language, tree] of Object.entries({ en, zh })) {
      const empty = keys(tree).filter((key) => {
        const value = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], tree);
        return typeof value !== "string" || value.trim() === "";
      });
      expect(empty, language).toEqual([]);
    }
  });

  it("hold every literal key the code asks for", () => {
    const known = new Set(keys(en).map((key) => key.replace(/_(zero|one|two|few|many|other)$/, "")));
    const root = join(__dirname, "..");
    const missing = sources(root).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\bt\(\s*"([a-zA-Z][\w.]*)"/g)]
        .map((match) => match[1]!)
        .filter((key) => !known.has(key))
        .map((key) => `${file.slice(root.length + 1)}: ${key}`),
    );
    expect(missing).toEqual([]);
  });

  it("follow the browser's languages", () => {
    expect(detectLanguage(["zh-CN", "en-US"])).toBe("zh");
    expect(detectLanguage(["zh-TW"])).toBe("zh");
    expect(detectLanguage(["de-DE", "en-GB"])).toBe("en");
    expect(detectLanguage(["fr"])).toBe("en");
    expect(localeOf("zh")).toBe("zh-CN");
  });

  it("set the page's lang attribute with the language", async () => {
    const i18n = createI18n("zh");
    expect(document.documentElement.lang).toBe("zh-CN");
    await i18n.changeLanguage("en");
    expect(document.documentElement.lang).toBe("en");
  });
});

describe("texts from the API", () => {
  it("are translated by their code, with plural forms", () => {
    const i18n = createI18n("zh");
    const closes = { code: "opportunities.board.closeness", params: { days: "12", horizon_days: "90" }, text: "closes in 12 days of a 90-day horizon" };
    expect(localize(i18n, closes)).toBe("12 天后成交（评估范围 90 天）");
    const today = { code: "opportunities.board.closeness_due", params: { days_overdue: "0" }, text: "closes today" };
    expect(localize(i18n, today)).toBe("今天成交");
    const english = createI18n("en");
    expect(localize(english, { ...closes, params: { days: "1", horizon_days: "90" } })).toBe("closes in 1 day of a 90-day horizon");
    expect(localize(english, today)).toBe("closes today");
  });

  it("fall back to the API's English for codes the console does not know", () => {
    const i18n = createI18n("zh");
    expect(localize(i18n, { code: "leads.assignment.manual", params: {}, text: "manual assignment" })).toBe("manual assignment");
    expect(localize(i18n, undefined)).toBe("");
  });
});
