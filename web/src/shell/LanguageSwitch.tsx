import { useId } from "react";
import { useTranslation } from "react-i18next";
import { LANGUAGES, rememberLanguage, type Language } from "../i18n";

const NAMES: Record<Language, string> = { en: "English", zh: "简体中文" };

/** The UI language; each option is named in its own language, as people look for it. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const id = useId();
  return (
    <div className="language-switch">
      <label htmlFor={id} className="visually-hidden">
        {t("shell.language")}
      </label>
      <select
        id={id}
        value={i18n.language}
        onChange={(event) => {
          const language = event.target.value as Language;
          rememberLanguage(language);
          void i18n.changeLanguage(language);
        }}
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language} lang={language === "zh" ? "zh-CN" : "en"}>
            {NAMES[language]}
          </option>
        ))}
      </select>
    </div>
  );
}
