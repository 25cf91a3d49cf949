import { HomePage } from './HomePage.tsx';
import { CallPage } from './CallPage.tsx';

/** Two routes: "/" (pick a room) and "/room/<id>" (the call). */
export function App() {
  const match = /^\/room\/([A-Za-z0-9_-]{1,64})\/?$/.exec(window.location.pathname);
  return match?.[1] ? <CallPage roomId={match[1]} /> : <HomePage />;
}
