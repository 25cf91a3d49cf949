// Pure checks and clean-ups of what goes into, and comes out of, the chat:
// allowed file types, safe file names, text without control characters,
// content that starts like its declared type. No state, no I/O beyond
// reading a Blob slice.
import { CHAT_MAX_TEXT, CHAT_MIME_TYPES, type ChatMime } from '../../shared/protocol/chat.ts';

export { CHAT_MAX_TEXT, CHAT_MIME_TYPES, type ChatMime };

/** For <input type=file accept>. */
export const CHAT_ACCEPT = '.pdf,.png,.jpg,.jpeg,.gif,.webp,' + CHAT_MIME_TYPES.join(',');
/** Characters (code points) of a shown or saved file name. */
export const MAX_FILE_NAME_CHARS = 100;

export type ChatInputErrorCode = 'empty' | 'too-long' | 'unsupported-type' | 'too-large' | 'closed';

/** Thrown (as a rejection) by sendText/sendFile for input the chat refuses. */
export class ChatInputError extends Error {
  constructor(readonly code: ChatInputErrorCode) {
    super(`chat: ${code}`);
  }
}

const EXTENSIONS: Record<ChatMime, readonly string[]> = {
  'application/pdf': ['pdf'],
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
};

function isChatMime(s: string): s is ChatMime {
  return (CHAT_MIME_TYPES as readonly string[]).includes(s);
}

/** The allowed type of a file to send, from its declared type or else its extension. */
export function chatMimeOf(type: string, name: string): ChatMime | undefined {
  const t = type.trim().toLowerCase();
  if (t === 'image/jpg' || t === 'image/pjpeg') return 'image/jpeg';
  if (t) return isChatMime(t) ? t : undefined;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (!ext) return undefined;
  return CHAT_MIME_TYPES.find((m) => EXTENSIONS[m].includes(ext));
}

// C0/C1 controls, zero-width and bidi formatting characters: invisible, or able to disguise a name.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * A file name safe to show and to save: no control or bidi characters, no
 * path separators or characters Windows refuses, no leading dots, an
 * extension that matches the (verified) type, at most MAX_FILE_NAME_CHARS.
 */
export function sanitizeFileName(raw: string, mime: ChatMime): string {
  let name = raw.normalize('NFC').replace(INVISIBLE, '').replace(/[/\\:*?"<>|]/g, '_');
  name = name.replace(/\s+/g, ' ').trim().replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  const exts = EXTENSIONS[mime];
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(name);
  let base = name;
  let ext = exts[0]!;
  if (match && exts.includes(match[1]!.toLowerCase())) {
    base = name.slice(0, -match[0].length);
    ext = match[1]!;
  }
  const room = MAX_FILE_NAME_CHARS - ext.length - 1;
  const chars = Array.from(base); // by code point, so a cut never splits a surrogate pair
  base = (chars.length > room ? chars.slice(0, room).join('') : base).trim();
  return `${base || 'file'}.${ext}`;
}

/** Drops control and bidi-override characters (keeps tabs and line breaks). */
export function cleanText(raw: string): string {
  return raw.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** Does the content start like the type says? (Never open bytes as a type they are not.) */
export function contentMatchesMime(head: Uint8Array, mime: ChatMime): boolean {
  const at = (offset: number, ...bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  const ascii = (offset: number, s: string) => at(offset, ...Array.from(s, (c) => c.charCodeAt(0)));
  switch (mime) {
    case 'application/pdf': {
      // Readers accept the header anywhere in the first KiB.
      const limit = Math.min(head.length - 5, 1024);
      for (let i = 0; i <= limit; i++) if (ascii(i, '%PDF-')) return true;
      return false;
    }
    case 'image/png':
      return at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return at(0, 0xff, 0xd8, 0xff);
    case 'image/gif':
      return ascii(0, 'GIF87a') || ascii(0, 'GIF89a');
    case 'image/webp':
      return ascii(0, 'RIFF') && ascii(8, 'WEBP');
  }
}

/** Bytes [start, end) of a Blob. */
export async function readBytes(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}
