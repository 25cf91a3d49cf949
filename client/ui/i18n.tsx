// French and English. The browser's language decides; the user can switch
// (remembered in localStorage). Missing French strings fall back to English.
import { createContext, useContext, useState, type ReactNode } from 'react';
import { en } from './strings-en.ts';
import { fr } from './strings-fr.ts';

export type Lang = 'en' | 'fr';
export type StringKey = keyof typeof en;
type Vars = Record<string, string | number>;

const dictionaries: Record<Lang, Partial<Record<StringKey, string>>> = { en, fr };

function initialLang(): Lang {
  try {
    const saved = window.localStorage.getItem('confide.lang');
    if (saved === 'en' || saved === 'fr') return saved;
  } catch {
    // storage unavailable: fall through to the browser language
  }
  return navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function translate(lang: Lang, key: StringKey, vars: Vars = {}): string {
  const text = dictionaries[lang][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  t(key: StringKey, vars?: Vars): string;
}

const Ctx = createContext<I18n>({ lang: 'en', setLang: () => undefined, t: (k, v) => translate('en', k, v) });

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = (l: Lang) => {
    setLangState(l);
    document.documentElement.lang = l;
    try {
      window.localStorage.setItem('confide.lang', l);
    } catch {
      // not remembered; still switched for this page
    }
  };
  document.documentElement.lang = lang;
  return <Ctx.Provider value={{ lang, setLang, t: (k, v) => translate(lang, k, v) }}>{children}</Ctx.Provider>;
}

export const useI18n = (): I18n => useContext(Ctx);

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang-switch">
      <span className="sr-only">{t('language')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} aria-label={t('language')}>
        <option value="en">English</option>
        <option value="fr">Français</option>
      </select>
    </label>
  );
}
