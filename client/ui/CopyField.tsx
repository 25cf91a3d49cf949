import { useId, useState } from 'react';
import { useI18n } from './i18n.tsx';

export function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const { t } = useI18n();
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      (document.getElementById(id) as HTMLInputElement | null)?.select();
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <input id={id} readOnly value={value} data-testid={testId} onFocus={(e) => e.target.select()} />
        <button type="button" className="secondary" onClick={copy} aria-label={`${t('copy')} — ${label}`}>
          {copied ? t('copied') : t('copy')}
        </button>
      </div>
    </div>
  );
}
