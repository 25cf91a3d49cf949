// What of the list goes to the transcript store, and how it comes back in a
// reloaded page: messages in their order (chat-archive.ts decides what of
// each is kept), forgotten ids (for de-duplication), participants and who
// still owes a receipt; then file bytes as they are read back, and our
// unfinished messages sent again.
import { restoredMessage, storedMessage, type ChatArchive } from './chat-archive.ts';
import type { ChatDelivery } from './chat-delivery.ts';
import type { ChatHistory, Entry } from './chat-history.ts';
import type { ChatOutbox } from './chat-outbox.ts';
import { MAX_STORED_RETIRED_IDS, type StoredMessage, type StoredTranscript } from './chat-transcript.ts';

/** The transcript as it is now. */
export function collectTranscript(history: ChatHistory, delivery: ChatDelivery): StoredTranscript {
  const messages: StoredMessage[] = [];
  for (const entry of history.entriesInOrder()) {
    const m = storedMessage(entry, delivery.exportDelivery(entry.msg.id));
    if (m) messages.push(m);
  }
  const retired = history.retiredIds().slice(-MAX_STORED_RETIRED_IDS);
  return { v: 1, messages, retired, participants: delivery.exportParticipants() };
}

/** What restoring works with (owned by ChatSession). */
export interface RestoreParts {
  history: ChatHistory;
  delivery: ChatDelivery;
  archive: ChatArchive;
  outbox: ChatOutbox;
  emit(): void;
  closed(): boolean;
}

/**
 * A reloaded page: the stored list comes back at once (so de-duplication
 * works from the first chunk), files as their bytes are read, and our
 * unfinished messages go out again (now if nobody waits for them, else when
 * those who do are ready: ChatSession.peerReady).
 */
export function restoreTranscript(t: StoredTranscript, parts: RestoreParts): void {
  const { history, delivery } = parts;
  history.retire(t.retired);
  const deliveries = new Map(t.messages.flatMap((m) => (m.delivery ? [[m.id, m.delivery] as const] : [])));
  delivery.restore(t.participants, deliveries);
  for (const s of t.messages) {
    const entry = history.add(restoredMessage(s));
    if (s.text !== undefined) entry.text = s.text;
    if (s.file?.sha256) entry.sha256 = s.file.sha256;
    const view = delivery.view(s.id);
    if (view) entry.msg = { ...entry.msg, delivery: view };
    void restoreFile(entry, s.status, parts);
  }
  parts.emit();
}

async function restoreFile(entry: Entry, status: StoredMessage['status'], parts: RestoreParts): Promise<void> {
  const { history, delivery, outbox } = parts;
  const { id, file, from } = entry.msg;
  if (file) {
    const blob = await parts.archive.loadFile(id, file.mime);
    if (parts.closed() || history.get(id) !== entry) return;
    if (!blob) entry.msg = { ...entry.msg, file: { ...file, expired: true } };
    else if (from === 'me') {
      entry.blob = blob;
      if (delivery.waitsForSomeoneReady(id)) outbox.redeliver(id); // someone came back before its bytes were read
    } else entry.msg = { ...entry.msg, file: { ...file, url: history.holdReceivedFile(entry, blob, entry.sha256 ?? '') } };
    parts.emit();
  }
  // Unfinished when the page went away and nobody waits for it: finish it now.
  if (status === 'sending' && !delivery.view(id)?.waitingFor.length && (!file || entry.blob)) void outbox.transmit(entry, true);
}
