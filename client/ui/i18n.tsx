// French and English through FormatJS (@formatjs/intl): ICU messages (plurals,
// selects, dates) from the TS dictionaries strings-en.ts (the keys' source of
// truth) and strings-fr.ts (every key required; tests/unit/i18n.test.ts checks
// both). The browser's language decides; the user can switch (remembered in
// localStorage 'confide.lang').
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { createIntl, createIntlCache, type IntlShape } from '@formatjs/intl';
import { en } from './strings-en.ts';
import { fr } from './strings-fr.ts';

export type Lang = 'en' | 'fr';
export const LANGS: readonly Lang[] = ['en', 'fr'];
export type StringKey = keyof typeof en;
/** Values for a message's ICU arguments: text, numbers (plurals) and dates. */
type Vars = Record<string, string | number | Date>;

export const dictionaries: Record<Lang, Record<StringKey, string>> = { en, fr };

const STORAGE_KEY = 'confide.lang';
const cache = createIntlCache();
const intls = new Map<Lang, IntlShape>();

/** The browser's own locale for `lang` when it has one (en-GB, fr-CA…), else `lang`: dates then look local. */
function localeFor(lang: Lang): string {
  const preferred = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
  return preferred.find((l) => l.toLowerCase().split('-')[0] === lang) ?? lang;
}

/** The FormatJS instance for `lang` (messages, dates, relative times), made once. */
export function intlFor(lang: Lang): IntlShape {
  let intl = intls.get(lang);
  if (!intl) {
    intl = createIntl(
      {
        locale: localeFor(lang),
        defaultLocale: 'en',
        messages: dictionaries[lang],
        // A missing key or argument shows the key; tests catch it before it ships.
        onError: (err) => console.warn(`[i18n ${lang}] ${err.code}`),
      },
      cache,
    );
    intls.set(lang, intl);
  }
  return intl;
}

function initialLang(): Lang {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'fr') return saved;
  } catch {
    // storage unavailable: fall through to the browser language
  }
  return navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** The message `key` in `lang`, with its ICU arguments filled from `vars`. */
export function translate(lang: Lang, key: StringKey, vars: Vars = {}): string {
  return intlFor(lang).formatMessage({ id: key }, vars);
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  t(key: StringKey, vars?: Vars): string;
}

const Ctx = createContext<I18n>({ lang: 'en', setLang: () => undefined, t: (k, v) => translate('en', k, v) });

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  // One value per language: components may depend on `t` (effects, callbacks) without re-running on every render.
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang: (l: Lang) => {
        setLangState(l);
        document.documentElement.lang = l;
        try {
          window.localStorage.setItem(STORAGE_KEY, l);
        } catch {
          // not remembered; still switched for this page
        }
      },
      t: (k, v) => translate(lang, k, v),
    }),
    [lang],
  );
  document.documentElement.lang = lang;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
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
