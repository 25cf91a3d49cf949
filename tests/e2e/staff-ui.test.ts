// The console, the doctor link and the patient link in real Chromium pages:
// the patient's link is checked (with whom, when) before the camera is asked
// for, and a bad one says so; an ended or unknown doctor link gets a clear
// page, not a call screen; the French UI translates a server error and shows
// no English; console forms, and statuses after abandonment and expiry.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { en } from '../../client/ui/strings-en.ts';
import { fr } from '../../client/ui/strings-fr.ts';
import { waitFor } from './support/browser.ts';
import { TestConsultation } from './support/consultation.ts';
import { staffTestEnv } from './support/staff-env.ts';
import { shot } from './support/artifacts.ts';

/** Screenshots of these screens go to tests/artifacts/ (like the flow test's). */
const staffShot = (page: Page, name: string) => shot(page, `staff-${name}`, true);

const env = staffTestEnv();

/** A page in its own context, in `locale`, whose getUserMedia calls are recorded with the page's text at that moment (window.__gum). */
const person = (locale = 'en-US', session?: string): Promise<Page> =>
  env.page({
    locale,
    ...(session ? { session } : {}),
    init: () => {
      const calls: string[] = [];
      (window as unknown as { __gum: string[] }).__gum = calls;
      const media = navigator.mediaDevices;
      const original = media.getUserMedia.bind(media);
      media.getUserMedia = (constraints) => {
        calls.push(document.body?.innerText ?? '');
        return original(constraints);
      };
    },
  });
const gumCalls = (page: Page) => page.evaluate(() => (window as unknown as { __gum: string[] }).__gum);
const adminPage = async () => person('en-US', await env.server.stores.sessions.create(env.admin.id));
const row = (page: Page, id: string) => page.locator(`tr[data-consultation-id="${id}"]`);

/** Now, to the minute, and how the page should write its time. */
function thisMinute(): { at: number; en: RegExp; fr: RegExp } {
  const d = new Date();
  d.setSeconds(0, 0);
  const [h, m] = [d.getHours(), String(d.getMinutes()).padStart(2, '0')];
  return {
    at: d.getTime(),
    en: new RegExp(`^Consultation with Dr Martin, today ${h % 12 || 12}:${m}\\s?[AP]M$`),
    fr: new RegExp(`^Consultation avec Dr Martin, aujourd’hui à ${String(h).padStart(2, '0')}:${m}$`),
  };
}

describe('console', () => {
  it('empty: add a practitioner first; forms: field errors that clear on success; an enrolment link, no password, no patient link', async () => {
    const page = await adminPage();
    await page.goto('/');
    await page.getByTestId('add-doctor-first').waitFor();
    await staffShot(page, 'console-empty');
    expect(await page.getByTestId('add-doctor-first').textContent()).toBe(en.addDoctorFirst);
    await page.getByText(en.noConsultationsYet).waitFor();

    await page.getByLabel('Full name').fill('Dr Alice Martin');
    await page.getByLabel('Email').fill('alice@clinic.test');
    expect(await page.locator('input[type="password"]').count()).toBe(0); // the admin never sets a doctor's password
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const enrolment = page.getByTestId('enrolment');
    await enrolment.getByRole('heading', { name: 'Enrolment link for Dr Alice Martin' }).waitFor();
    expect(await enrolment.getByTestId('enrolment-link').inputValue()).toMatch(/\/enrol#t=[A-Za-z0-9_-]{43}$/);
    await page.getByLabel('Patient name').waitFor();
    expect(await page.getByTestId('add-doctor-first').count()).toBe(0);
    await shot(page, 'console-enrolment-link');

    const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Patient name').fill('Camille Durand');
    await page.getByLabel('Date and time').fill(local(Date.now() - 3 * 24 * 3600_000));
    await page.getByRole('button', { name: 'Create consultation' }).click();
    const error = page.getByTestId('new-consultation-error');
    await error.waitFor();
    expect(await error.textContent()).toBe(en['fieldError.scheduledAt-range']);
    await staffShot(page, 'console-field-error');

    await page.getByLabel('Date and time').fill(local(Date.now() + 3600_000));
    await page.getByRole('button', { name: 'Create consultation' }).click();
    const done = page.getByTestId('consultation-scheduled');
    await done.waitFor();
    expect(await done.textContent()).toContain('Camille Durand with Dr Alice Martin');
    expect(await error.count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toMatch(/#k=|\/join\//);
    // Starting the next consultation's form takes the confirmation away.
    await page.getByLabel('Patient name').fill('Next patient');
    await expect.poll(() => done.count()).toBe(0);
  });

  it('statuses: in progress, interrupted after everybody left (duration stopped), no-show and expired without End', async () => {
    const console_ = await adminPage();
    const c = await TestConsultation.create(env.server, 'Dr Bruno');
    const doctor = await person();
    const patient = await person();
    await c.joinAsDoctor(doctor);
    await c.joinAsPatient(patient, 'Camille');
    await console_.goto('/');
    const live = row(console_, c.id);
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 10_000 }).toBe('in_progress');

    for (const p of [patient, doctor]) {
      await p.getByRole('button', { name: 'Leave' }).click();
      await p.locator('[data-testid="call-over"][data-reason="left"]').waitFor();
    }
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 10_000 }).toBe('interrupted');
    expect(await live.locator('td').nth(3).textContent()).toBe('interrupted');
    expect(await live.getByRole('button', { name: /^End/ }).count()).toBe(1);
    const duration = await live.getByTestId('duration').textContent();
    expect(duration).toMatch(/^\d+:\d\d$/);
    await new Promise((r) => setTimeout(r, 4000)); // more than a console refresh and a second
    expect(await live.getByTestId('duration').textContent()).toBe(duration);

    // Time passed: the patient never came (no-show), or the call was abandoned and its link expired.
    const when = Date.now() - 25 * 3600_000;
    const noShow = await env.server.stores.consultations.create({ doctorId: c.doctor.id, patientName: 'Never came', scheduledAt: when, createdBy: 'test' });
    const expired = await env.server.stores.consultations.create({ doctorId: c.doctor.id, patientName: 'Left early', scheduledAt: when, createdBy: 'test' });
    await env.server.stores.consultations.setStatus(expired.consultation.id, 'in_progress', when);
    await env.server.stores.consultations.setEmptiedAt(expired.consultation.id, when + 600_000);
    await expect.poll(() => row(console_, noShow.consultation.id).getAttribute('data-status'), { timeout: 10_000 }).toBe('no_show');
    await expect.poll(() => row(console_, expired.consultation.id).getAttribute('data-status')).toBe('expired');
    for (const id of [noShow.consultation.id, expired.consultation.id]) expect(await row(console_, id).getByRole('button').count()).toBe(0);
    expect(await row(console_, expired.consultation.id).getByTestId('duration').textContent()).toBe('10:00');
    await staffShot(console_, 'console-statuses');
  });
});

describe('doctor link', () => {
  it('an ended or unknown consultation gets a clear page with the way back, never the call screen', async () => {
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    await env.server.consultations.end(c.id, 'system');
    const page = await person('en-US', c.doctorSession);
    await page.goto(c.doctorLink);
    const stopped = page.locator('[data-testid="doctor-link-stopped"][data-reason="ended"]');
    await stopped.waitFor();
    expect(await stopped.getByRole('alert').textContent()).toBe(en.doctorLinkEnded);
    expect(await stopped.getByRole('link', { name: 'Back to your consultations' }).getAttribute('href')).toBe('/');
    expect(await page.locator('main[data-state]').count()).toBe(0); // no call screen
    expect(await page.getByTestId('device-check').count()).toBe(0);
    expect(await gumCalls(page)).toEqual([]);
    await staffShot(page, 'doctor-link-ended');

    await page.goto(c.doctorLink.replace(c.id, 'zzzzzzzzzzzzzzzz'));
    await page.locator('[data-testid="doctor-link-stopped"][data-reason="not-found"]').waitFor();
    await page.goto('/consultation/not-a-link');
    await page.locator('[data-testid="doctor-link-stopped"][data-reason="invalid"]').waitFor();
    expect(await gumCalls(page)).toEqual([]);
  });
});

describe('patient link', () => {
  it('is checked before the camera is asked for: with whom and when, then the device check', async () => {
    const time = thisMinute();
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    await env.server.stores.db.kysely.updateTable('consultations').set({ scheduled_at: time.at, expires_at: time.at + 24 * 3600_000 }).where('id', '=', c.id).execute();
    const page = await person();
    await page.goto(c.patientLink);
    await page.getByTestId('device-check').waitFor();
    expect(await page.getByTestId('link-with').textContent()).toMatch(time.en);
    const calls = await waitFor('getUserMedia', () => gumCalls(page), (g) => g.length > 0);
    // Every camera request came after the page said with whom and when.
    for (const text of calls) expect(text).toMatch(/Consultation with Dr Martin, today/);
    await staffShot(page, 'patient-link-ok');
  });

  it('an invalid, expired or ended link says so, with what to do, and never asks for the camera', async () => {
    const page = await person();
    const stopped = async (link: string, reason: string, help: string) => {
      await page.goto('about:blank'); // the same link again must load anew, not just change its #fragment
      await page.goto(link);
      const banner = page.locator(`[data-testid="join-stopped"][data-reason="${reason}"]`);
      await banner.waitFor();
      expect(await banner.textContent()).toContain(help);
      expect(await page.getByRole('heading', { name: 'Staff sign-in' }).count()).toBe(0);
      expect(await gumCalls(page)).toEqual([]);
    };
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    await stopped(c.patientLink.replace(/#t=[^&]+/, '#t=' + 'A'.repeat(43)), 'invalid', en.linkInvalidHelp);
    await stopped(c.patientLink.replace(c.id, 'zzzzzzzzzzzzzzzz'), 'invalid', en.linkInvalidHelp);
    await stopped('/join/not-a-link', 'invalid', en.linkInvalidHelp);
    await stopped('/join/', 'invalid', en.linkInvalidHelp);
    await env.server.stores.db.kysely.updateTable('consultations').set({ expires_at: Date.now() - 1000 }).where('id', '=', c.id).execute();
    await stopped(c.patientLink, 'expired', en.linkExpiredHelp);
    await env.server.consultations.end(c.id, 'system');
    await stopped(c.patientLink, 'ended', en.linkEndedHelp);
    await staffShot(page, 'patient-link-ended');
    expect(await page.getByTestId('link-with').textContent()).toMatch(/^Consultation with Dr Martin, /);
  });
});

describe('in French', () => {
  /** English strings (of a few words) that differ in French: none may show on a French page. */
  const englishOnly = (Object.keys(en) as (keyof typeof en)[])
    .filter((k) => en[k] !== fr[k] && en[k].split(' ').length >= 3 && !en[k].includes('{'))
    .map((k) => en[k]);

  async function noEnglish(page: Page): Promise<void> {
    const text = await page.locator('body').innerText();
    expect(englishOnly.filter((s) => text.includes(s))).toEqual([]);
    expect(text).not.toMatch(/wrong email|password|Sign[- ]in|Consultation with/i);
  }

  it('a wrong password shows the server’s error translated, and no English', async () => {
    const page = await person('fr-FR');
    await page.goto('/');
    await page.getByRole('heading', { name: 'Connexion du personnel' }).waitFor();
    await page.getByLabel('E-mail').fill('admin@clinic.test');
    await page.getByLabel('Mot de passe').fill('not the password');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    const error = page.getByTestId('login-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('Échec de la connexion : E-mail ou mot de passe incorrect.');
    await staffShot(page, 'sign-in-error-fr');
    await noEnglish(page);
  });

  it('the patient link says with whom and when in French', async () => {
    const time = thisMinute();
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    await env.server.stores.db.kysely.updateTable('consultations').set({ scheduled_at: time.at, expires_at: time.at + 24 * 3600_000 }).where('id', '=', c.id).execute();
    const page = await person('fr-FR');
    await page.goto(c.patientLink);
    await page.getByRole('heading', { name: 'Vérifiez votre caméra et votre micro' }).waitFor();
    expect(await page.getByTestId('link-with').textContent()).toMatch(time.fr);
    await noEnglish(page);
  });
});
