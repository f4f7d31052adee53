// English and Simplified Chinese. The language follows the browser (navigator.languages)
// until the user picks one in the shell; that choice is kept (it is no secret).
import i18next, { type i18n } from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en.json";
import zh from "./zh.json";

export const LANGUAGES = ["en", "zh"] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = "crm.console.language";

/** The first of the reader's languages the console speaks; English otherwise. */
export function detectLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "zh") return "zh";
    if (primary === "en") return "en";
  }
  return "en";
}

/** The BCP 47 tag for `lang` and Intl: Simplified Chinese is zh-CN. */
export function localeOf(language: string): string {
  return language === "zh" ? "zh-CN" : "en";
}

function storedLanguage(): Language | undefined {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    return LANGUAGES.find((language) => language === stored);
  } catch {
    return undefined; // Storage may be off; the browser's language still applies.
  }
}

export function rememberLanguage(language: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, language);
  } catch {
    // Not kept: it still applies to this page.
  }
}

export function createI18n(language?: Language): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, zh: { translation: zh } },
    lng: language ?? storedLanguage() ?? detectLanguage(globalThis.navigator?.languages ?? []),
    fallbackLng: "en",
    supportedLngs: [...LANGUAGES],
    initAsync: false,
    // The API's templates name parameters in single braces ("{days}"): use the same here.
    interpolation: { escapeValue: false, prefix: "{", suffix: "}" },
    returnEmptyString: false,
  });
  const follow = (language: string) => {
    if (globalThis.document) globalThis.document.documentElement.lang = localeOf(language);
  };
  follow(instance.language);
  instance.on("languageChanged", follow);
  return instance;
}
