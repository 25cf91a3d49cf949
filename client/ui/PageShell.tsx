import type { ReactNode } from 'react';
import { LanguageSwitch } from './i18n.tsx';

/** The narrow page every step outside the call uses: the name, the language switch, then `children`. */
export function PageShell({ children, step }: { children: ReactNode; step?: string }) {
  return (
    <main className="page narrow" data-step={step}>
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
      {children}
    </main>
  );
}
