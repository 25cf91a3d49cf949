import { HomePage } from './HomePage.tsx';
import { CallPage } from './CallPage.tsx';
import { I18nProvider } from './i18n.tsx';

/** Two routes: "/" (start) and "/room/<id>#k=<secret>" (the call). */
export function App() {
  const match = /^\/room\/([A-Za-z0-9_-]{1,64})\/?$/.exec(window.location.pathname);
  return <I18nProvider>{match?.[1] ? <CallPage roomId={match[1]} /> : <HomePage />}</I18nProvider>;
}
