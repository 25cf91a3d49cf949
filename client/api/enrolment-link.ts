// Enrolment links: `/enrol#t=<token>`. The token rides in the URL fragment,
// which browsers never send to servers (and the page sends no referrer); the
// enrolment page posts it in a request body.

/** The link the clinic admin gives a doctor to set their own password. */
export function enrolmentLink(origin: string, token: string): string {
  return `${origin}/enrol#t=${encodeURIComponent(token)}`;
}

/** The token of an enrolment link's fragment (`#t=…`), if well-formed. */
export function readEnrolmentToken(hash: string): string | undefined {
  const t = new URLSearchParams(hash.replace(/^#/, '')).get('t');
  return t && /^[A-Za-z0-9_-]{43}$/.test(t) ? t : undefined;
}
