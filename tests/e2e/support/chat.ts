// Chat helpers for browser tests: send texts and PDFs through the UI, read
// what arrived (and download received files to compare them byte for byte).
import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';

/** Opens the chat panel if the call screen keeps it closed. */
export async function openChat(page: Page): Promise<void> {
  const input = page.getByTestId('chat-input');
  if (await input.isVisible().catch(() => false)) return;
  const toggle = page.getByTestId('chat-toggle');
  if (await toggle.count()) await toggle.first().click();
  await input.waitFor();
}

export async function sendText(page: Page, text: string): Promise<void> {
  await openChat(page);
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

/** A small but valid-looking PDF with `bytes` random bytes in a comment stream. */
export function makePdf(label: string, bytes = 256 * 1024): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj << /Type /Catalog >> endobj\n`);
  return Buffer.concat([head, randomBytes(bytes), Buffer.from('\n%%EOF\n')]);
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function sendPdf(from: Page, name: string, pdf: Buffer): Promise<void> {
  await openChat(from);
  await from.getByTestId('chat-file-input').setInputFiles({ name, mimeType: 'application/pdf', buffer: pdf });
}

/** Waits for a received message containing `text` (e.g. a file name). */
export async function received(to: Page, text: string, timeout = 60_000): Promise<void> {
  await openChat(to);
  await to.locator('[data-testid="chat-message"][data-status="received"]', { hasText: text }).first().waitFor({ timeout });
}

/** How many messages containing `text` a page lists (exactly-once checks). */
export async function countMessages(page: Page, text: string): Promise<number> {
  await openChat(page);
  return page.locator('[data-testid="chat-message"]', { hasText: text }).count();
}

export async function receivedPdf(to: Page, name: string, timeout = 60_000): Promise<Buffer> {
  await received(to, name, timeout);
  const message = to.locator('[data-testid="chat-message"][data-status="received"]', { hasText: name }).first();
  const [download] = await Promise.all([to.waitForEvent('download'), message.getByTestId('chat-download').click()]);
  return fs.readFileSync((await download.path())!);
}
