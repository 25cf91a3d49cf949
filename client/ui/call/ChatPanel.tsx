// Encrypted messages and files during a call. All content shown here comes
// from ChatSession, which only lists what decrypted and passed validation;
// React escapes text, file names are sanitized, files open only as the
// verified type (PDF or image) through object URLs.
import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent } from 'react';
import { CHAT_ACCEPT, CHAT_MAX_TEXT, ChatInputError, type ChatMessage, type ChatSession } from '../../chat/chat-session.ts';
import type { ChatStringKey } from './chat-strings.ts';
import { useI18n } from '../i18n.tsx';
import './chat.css';

type T = (key: ChatStringKey, vars?: Record<string, string | number>) => string;

const INPUT_ERRORS: Record<ChatInputError['code'], ChatStringKey> = {
  empty: 'chatErrorEmpty',
  'too-long': 'chatErrorTooLong',
  'unsupported-type': 'chatErrorType',
  'too-large': 'chatErrorTooLarge',
  closed: 'chatErrorClosed',
};

export function ChatPanel({ chat, names }: { chat: ChatSession; names: Record<string, string> }) {
  const { lang, t: translate } = useI18n();
  const t: T = (key, vars) => translate(key, vars);
  const snap = useSyncExternalStore(chat.subscribe, chat.snapshot, chat.snapshot);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string>();
  const fileRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const uid = useId();
  const ids = { title: `${uid}-title`, input: `${uid}-input`, hint: `${uid}-hint`, count: `${uid}-count`, file: `${uid}-file` };

  // Keep the newest message in view, unless the reader scrolled up.
  const count = snap.messages.length;
  useEffect(() => {
    const list = listRef.current;
    if (list && list.scrollHeight - list.scrollTop - list.clientHeight < 120) list.scrollTop = list.scrollHeight;
  }, [count]);

  const onInputError = (err: unknown) => {
    if (err instanceof ChatInputError) setError(t(INPUT_ERRORS[err.code], { max: CHAT_MAX_TEXT }));
    else setError(String(err));
  };

  const send = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft;
    if (!text.trim()) return;
    setError(undefined);
    setDraft('');
    chat.sendText(text).catch((err: unknown) => {
      setDraft(text); // refused: give it back to edit
      onInputError(err);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) send(e);
  };

  const onFile = (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = ''; // the same file can be chosen again
    if (!file) return;
    setError(undefined);
    chat.sendFile(file).catch(onInputError);
  };

  const left = CHAT_MAX_TEXT - draft.length;
  // Peer ids change when someone rejoins: the name the message came with stays.
  const senderName = (m: ChatMessage) =>
    m.from === 'me' ? t('chatYou') : (names[m.from] ?? m.fromName ?? t('chatUnknownSender', { id: m.from.slice(0, 8) }));

  return (
    <section className="chat" data-testid="chat-panel" aria-labelledby={ids.title}>
      <h2 id={ids.title} className="chat-title">
        {t('chatTitle')}
      </h2>
      <p className="chat-note">{t('chatEncrypted')}</p>
      {snap.couldNotDecrypt > 0 && (
        <p className="chat-notice" role="status" data-testid="chat-undecryptable">
          {t('chatCouldNotDecrypt', { count: snap.couldNotDecrypt })}
        </p>
      )}
      <ol className="chat-list" ref={listRef} aria-live="polite" aria-relevant="additions" aria-labelledby={ids.title} tabIndex={0}>
        {snap.messages.length === 0 && <li className="chat-empty">{t('chatEmpty')}</li>}
        {snap.messages.map((m) => (
          <MessageItem key={m.id} m={m} sender={senderName(m)} t={t} lang={lang} onResend={() => void chat.resend(m.id)} />
        ))}
      </ol>
      {error && (
        <p className="chat-error" role="alert">
          {error}
        </p>
      )}
      <form className="chat-compose" onSubmit={send}>
        <label htmlFor={ids.input} className="sr-only">
          {t('chatMessageLabel')}
        </label>
        <textarea
          id={ids.input}
          data-testid="chat-input"
          className="chat-input"
          rows={2}
          maxLength={CHAT_MAX_TEXT}
          value={draft}
          placeholder={t('chatMessagePlaceholder')}
          aria-describedby={left < 500 ? ids.count : undefined}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" data-testid="chat-send" disabled={!draft.trim()}>
          {t('chatSend')}
        </button>
        {left < 500 && (
          <span id={ids.count} className="chat-count" aria-live="polite">
            {t('chatCharsLeft', { count: left })}
          </span>
        )}
      </form>
      <div className="chat-attach">
        <button type="button" className="secondary" aria-describedby={ids.hint} onClick={() => fileRef.current?.click()}>
          {t('chatAttach')}
        </button>
        <span id={ids.hint} className="chat-hint">
          {t('chatAttachHint')}
        </span>
        {/* Opened by the button above, which is its one stop for keyboard and screen
            reader alike: the input itself is not rendered (hidden), only clicked. */}
        <input
          ref={fileRef}
          id={ids.file}
          type="file"
          accept={CHAT_ACCEPT}
          hidden
          tabIndex={-1}
          aria-label={t('chatFileInputLabel')}
          data-testid="chat-file-input"
          onChange={(e) => onFile(e.currentTarget)}
        />
      </div>
    </section>
  );
}

function MessageItem({ m, sender, t, lang, onResend }: { m: ChatMessage; sender: string; t: T; lang: string; onResend: () => void }) {
  const progressId = useId();
  const resendProgressId = useId();
  const pct = Math.floor(m.progress * 100);
  const name = m.file?.name ?? '';
  const busy = m.status === 'sending' || m.status === 'receiving' || m.resend?.status === 'sending';
  const canResend =
    !busy && (m.from === 'me' ? m.status === 'sent' || m.status === 'failed' : m.status === 'received') && !m.file?.expired;
  const what = m.kind === 'file' ? name : snippet(m.text ?? '');

  let status: string;
  switch (m.status) {
    case 'sending':
      status = t('chatSending', { percent: pct });
      break;
    case 'receiving':
      status = t('chatReceiving', { percent: pct });
      break;
    case 'sent':
      status = t('chatSent');
      break;
    case 'received':
      status = t('chatReceived');
      break;
    case 'failed':
      status =
        m.error === 'no-key' ? t('chatFailedNoKey') : m.error === 'network' ? t('chatFailedNetwork') : m.from === 'me' ? t('chatFailed') : t('chatFailedReceive');
      break;
  }

  return (
    <li
      className={`chat-msg ${m.from === 'me' ? 'mine' : 'theirs'} ${m.status}`}
      data-testid="chat-message"
      data-status={m.status}
      data-message-id={m.id}
    >
      <div className="chat-msg-head">
        <span className="chat-sender">{sender}</span>
        <span className="chat-status">{status}</span>
      </div>
      {m.kind === 'text' ? (
        <p className="chat-text">{m.text}</p>
      ) : (
        m.file && (
          <div className="chat-file">
            <span className="chat-file-name">{m.file.name}</span> <span className="chat-file-size">({formatSize(m.file.size, lang, t)})</span>
            {m.file.url && m.file.mime.startsWith('image/') && (
              <img className="chat-thumb" src={m.file.url} alt={t('chatImageAlt', { name })} />
            )}
            {m.file.url && (
              <span className="chat-file-links">
                <a href={m.file.url} target="_blank" rel="noopener noreferrer" aria-label={t('chatOpenLabel', { name })}>
                  {t('chatOpen')}
                </a>
                <a href={m.file.url} download={name} data-testid="chat-download" aria-label={t('chatDownloadLabel', { name })}>
                  {t('chatDownload')}
                </a>
              </span>
            )}
            {m.file.expired && <span className="chat-hint">{t('chatUnavailable')}</span>}
          </div>
        )
      )}
      {(m.status === 'sending' || m.status === 'receiving') && (
        <div className="chat-progress">
          <label htmlFor={progressId}>
            {m.kind === 'file' ? t(m.status === 'sending' ? 'chatSendingFile' : 'chatReceivingFile', { name }) : status}
          </label>
          <progress id={progressId} value={m.progress} max={1}>
            {pct}%
          </progress>
        </div>
      )}
      {m.resend?.status === 'sending' && (
        <div className="chat-progress">
          <label htmlFor={resendProgressId}>{t('chatResending', { percent: Math.floor(m.resend.progress * 100) })}</label>
          <progress id={resendProgressId} value={m.resend.progress} max={1}>
            {Math.floor(m.resend.progress * 100)}%
          </progress>
        </div>
      )}
      {m.resend?.status === 'sent' && <span className="chat-hint">{t('chatResent')}</span>}
      {m.resend?.status === 'failed' && (
        <span className="chat-hint">{t(m.resend.error === 'no-key' ? 'chatFailedNoKey' : m.resend.error === 'unavailable' ? 'chatUnavailable' : 'chatFailedNetwork')}</span>
      )}
      {canResend && (
        <button type="button" className="chat-resend secondary" onClick={onResend} aria-label={t('chatResendLabel', { what })}>
          {t('chatResend')}
        </button>
      )}
    </li>
  );
}

function snippet(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' '));
  return chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : chars.join('');
}

function formatSize(bytes: number, lang: string, t: T): string {
  const fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  if (bytes < 1024) return t('chatSizeB', { n: fmt.format(bytes) });
  if (bytes < 1024 * 1024) return t('chatSizeKB', { n: fmt.format(bytes / 1024) });
  return t('chatSizeMB', { n: fmt.format(bytes / (1024 * 1024)) });
}
