import type { ConsultationStatus } from '../api/api-client.ts';
import type { StringKey } from './i18n.tsx';

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function statusLabel(t: (k: StringKey) => string, s: ConsultationStatus): string {
  return t(`status_${s}` as StringKey);
}
