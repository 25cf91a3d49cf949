// Issue 12 in real Chromium pages: a doctor chooses their own password with
// the enrolment link (the policy's refusal shown in words; the link works
// once); a reset gives a new link and signs the doctor out; the doctor's
// dashboard makes the patient link (this browser draws the key; a new link
// keeps it and retires the old token); and a link carrying another key than
// the one this browser kept asks before anything is replaced (item 10).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bytesToHex } from '@noble/hashes/utils.js';
import { en } from '../../client/ui/strings-en.ts';
import { generateRoomSecret } from '../../shared/crypto/room-secret.ts';
import { TestConsultation } from './support/consultation.ts';
import { staffTestEnv } from './support/staff-env.ts';

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, `hardening-${name}.png`), fullPage: true });

const env = staffTestEnv();
const person = (session?: string): Promise<Page> => env.page(session ? { session } : {});

beforeAll(() => {
  fs.mkdirSync(artifacts, { recursive: true });
});

describe('enrolment', () => {
  it('the doctor chooses a password the policy accepts, once; a reset signs them out and gives a new link', async () => {
    const console_ = await person(await env.server.stores.sessions.create(env.admin.id));
    await console_.goto('/');
    await console_.getByLabel('Full name').fill('Dr Inès Moreau');
    await console_.getByLabel('Email').fill('ines@clinic.test');
    await console_.getByRole('button', { name: 'Create', exact: true }).click();
    const link = await console_.getByTestId('enrolment-link').inputValue();

    const doctor = await person();
    await doctor.goto(link);
    await doctor.getByText('For Dr Inès Moreau (ines@clinic.test).').waitFor();
    const fill = async (a: string, b = a) => {
      await doctor.getByLabel('New password').fill(a);
      await doctor.getByLabel('The same password again').fill(b);
    };
    await fill('stethoscope coffee', 'stethoscope coffee!');
    await doctor.getByText(en.passwordsDiffer).waitFor();
    expect(await doctor.getByRole('button', { name: 'Set my password' }).isDisabled()).toBe(true);
    await fill('password12345678');
    await doctor.getByRole('button', { name: 'Set my password' }).click();
    expect(await doctor.getByTestId('enrol-error').textContent()).toBe(en['fieldError.password-weak']);
    await shot(doctor, 'enrol-weak');
    await fill('violet harbour at dawn');
    await doctor.getByRole('button', { name: 'Set my password' }).click();
    await doctor.getByRole('heading', { name: en.myConsultations }).waitFor();
    // Used up.
    const again = await person();
    await again.goto(link);
    await again.getByTestId('enrol-invalid').waitFor();
    expect(await again.getByTestId('enrol-invalid').textContent()).toBe(en.enrolInvalid);

    // The admin resets the password: the doctor is signed out; the new link works.
    const ines = (await env.server.stores.users.byEmail('ines@clinic.test'))!;
    await console_.reload();
    await console_.getByRole('button', { name: 'Reset password Dr Inès Moreau' }).click();
    await console_.getByTestId('confirm-reset').getByRole('button', { name: /^Confirm the reset/ }).click();
    const second = await console_.getByTestId('enrolment-link').inputValue();
    expect(second).not.toBe(link);
    await shot(console_, 'console-reset');
    await doctor.reload();
    await doctor.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    expect(await env.server.stores.users.hasPassword(ines.id)).toBe(false);
  });
});

describe('the doctor’s dashboard makes the patient link', () => {
  it('invites with a key drawn in this browser; a new patient link keeps the key and retires the old token', async () => {
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    const page = await person(c.doctorSession);
    await page.goto('/');
    const entry = page.getByTestId('doctor-consultations').locator(`li[data-consultation-id="${c.id}"]`);
    await entry.getByText(en.inviteHere).waitFor();
    await entry.getByRole('button', { name: 'Invite the patient Patient' }).click();
    const first = await entry.getByTestId('patient-link').inputValue();
    const [, token1, key1] = /#t=([^&]+)&k=([0-9a-f]{64})$/.exec(first)!;
    expect(await env.server.stores.consultations.verifyPatientToken(c.id, token1!)).toBe('ok');
    const stored = JSON.parse((await page.evaluate((id) => localStorage.getItem(`confide.secret.${id}`), c.id))!) as { k: string; exp: number };
    // Kept until the links expire, not for ever (issue 11).
    expect(stored).toEqual({ k: key1, exp: (await env.server.stores.consultations.get(c.id))!.expiresAt });
    await shot(page, 'dashboard-invitation');

    await entry.getByRole('button', { name: 'New patient link Patient' }).click();
    await expect.poll(async () => entry.getByTestId('patient-link').inputValue()).not.toBe(first);
    const [, token2, key2] = /#t=([^&]+)&k=([0-9a-f]{64})$/.exec(await entry.getByTestId('patient-link').inputValue())!;
    expect(key2).toBe(key1);
    expect(await env.server.stores.consultations.verifyPatientToken(c.id, token1!)).toBe('invalid');
    expect(await env.server.stores.consultations.verifyPatientToken(c.id, token2!)).toBe('ok');
    expect(await entry.getByRole('link', { name: 'Open Patient' }).getAttribute('href')).toBe(`${env.server.url}/consultation/${c.id}#k=${key1}`);

    // A double click, the first answer slow: the link shown still works (one invitation at a time).
    let slow = true;
    await page.route('**/api/doctor/consultations/*/invitation', async (route) => {
      const first = slow;
      slow = false;
      const answer = await route.fetch();
      if (first) await new Promise((r) => setTimeout(r, 800));
      await route.fulfill({ response: answer });
    });
    const shown = await entry.getByTestId('patient-link').inputValue();
    await entry.getByRole('button', { name: 'New patient link Patient' }).dblclick();
    await expect.poll(async () => entry.getByTestId('patient-link').inputValue(), { timeout: 10_000 }).not.toBe(shown);
    await page.waitForTimeout(1500); // both answers in, if there were two
    const [, token3, key3] = /#t=([^&]+)&k=([0-9a-f]{64})$/.exec(await entry.getByTestId('patient-link').inputValue())!;
    expect(key3).toBe(key1);
    expect(await env.server.stores.consultations.verifyPatientToken(c.id, token3!)).toBe('ok');
    await page.unroute('**/api/doctor/consultations/*/invitation');

    // Ended elsewhere (the console): the dashboard's next refresh makes this browser forget the key.
    await env.server.consultations.end(c.id, 'system');
    await page.reload();
    await expect.poll(() => page.evaluate((id) => localStorage.getItem(`confide.secret.${id}`), c.id), { timeout: 10_000 }).toBeNull();
  });
});

describe('a link with another key', () => {
  it('never replaces the key this browser kept without asking; keeping it is the first choice', async () => {
    const c = await TestConsultation.create(env.server, 'Dr Martin');
    const page = await person(c.doctorSession);
    await page.goto(c.doctorLink);
    await page.getByTestId('device-check').waitFor();
    const mine = bytesToHex(c.secret);
    const other = bytesToHex(generateRoomSecret());
    const storedKey = async () => {
      const raw = await page.evaluate((id) => localStorage.getItem(`confide.secret.${id}`), c.id);
      return raw === null ? null : (JSON.parse(raw) as { k: string }).k;
    };
    expect(await storedKey()).toBe(mine);

    await page.goto('about:blank');
    await page.goto(`/consultation/${c.id}#k=${other}`);
    const conflict = page.getByTestId('secret-conflict');
    await conflict.waitFor();
    expect(await page.getByTestId('device-check').count()).toBe(0);
    expect(await storedKey()).toBe(mine);
    await shot(page, 'secret-conflict');
    await conflict.getByRole('button', { name: en.keepStoredKey }).click();
    await page.getByTestId('device-check').waitFor();
    expect(await storedKey()).toBe(mine);
    expect(new URL(page.url()).hash).toBe('');

    await page.goto('about:blank');
    await page.goto(`/consultation/${c.id}#k=${other}`);
    await page.getByTestId('secret-conflict').getByRole('button', { name: en.useLinkKey }).click();
    await page.getByTestId('device-check').waitFor();
    expect(await storedKey()).toBe(other);
  });
});
