// Times, durations and statuses in the user's language (FormatJS, via i18n.tsx).
import type { ConsultationStatus } from '../api/api-client.ts';
import { intlFor, type Lang, type StringKey } from './i18n.tsx';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A date and time, short (e.g. "03/03/2026, 14:30"), in `lang` (default: English). */
export function formatTime(ms: number, lang: Lang = 'en'): string {
  return intlFor(lang).formatDate(ms, { dateStyle: 'short', timeStyle: 'short' });
}

/** A duration in ms as m:ss, or h:mm:ss from an hour. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), String(s % 60).padStart(2, '0')];
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * When something is, for a sentence: `day` is "today" / "tomorrow" /
 * "yesterday" (relative, local calendar days) or a weekday and date; `time`
 * the local time ("09:30", "2:30 PM"), both in `lang`.
 */
export function dayAndTime(lang: Lang, ms: number, now = Date.now()): { day: string; time: string } {
  const intl = intlFor(lang);
  const midnight = (t: number) => new Date(t).setHours(0, 0, 0, 0);
  const days = Math.round((midnight(ms) - midnight(now)) / DAY_MS);
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  const day =
    Math.abs(days) <= 1
      ? intl.formatRelativeTime(days, 'day', { numeric: 'auto' })
      : intl.formatDate(ms, { weekday: 'long', day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) });
  // The locale's own short time: "00:04" / "09:04" in French, "9:04 AM" in US English (hour: 'numeric' gave "0:04" in French).
  return { day, time: intl.formatTime(ms, { timeStyle: 'short' }) };
}

/** A consultation's status in words (`status_<status>` keys). */
export function statusLabel(t: (k: StringKey) => string, s: ConsultationStatus): string {
  return t(`status_${s}`);
}
