// Exactly once across connection trouble: sessions on the ChatLink contract,
// through a relay that loses what a dropped participant would have got, with
// the test playing the connection owner (pause/resume, rebind under a new peer
// id with new keys, peerReady/peerGone).
import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_CHUNK_BYTES } from '../../shared/protocol/chat.ts';
import { ROOM, Room, blobBytes, closeAll, msgs, png, sameBytes, settle, until, type Note, type Person } from './support/chat-relay.ts';
import { REPEAT_MS } from '../../client/chat/chat-receipts.ts';

afterEach(closeAll);

/** Chunks relayed from `p`'s peer ids for message `id`. */
const chunksOf = (room: Room, p: Person, id: string): Note[] => room.relay.seen.filter((n) => n.id === id && n.from.startsWith(`${p.participant}-`));
/** Receipts are one-chunk transmissions whose id no message has. */
const receiptsFrom = (room: Room, p: Person, messageIds: string[]): Note[] =>
  room.relay.seen.filter((n) => n.from.startsWith(`${p.participant}-`) && n.total === 1 && !messageIds.includes(n.id));

const shown = (p: Person) => msgs(p).map((m) => [m.id, m.kind, m.status]);

describe('a receiver that drops', () => {
  it('gets each message exactly once after rejoining under a new peer id, files byte for byte', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    room.drop(patient);
    const text = await doctor.chat.sendText('Votre ordonnance arrive');
    const data = png(3 * CHAT_CHUNK_BYTES + 77, 4);
    const file = await doctor.chat.sendFile(new File([data as BlobPart], 'ordonnance.png', { type: 'image/png' }));
    expect(msgs(patient)).toHaveLength(0); // lost on the way
    expect(msgs(doctor).map((m) => m.delivery?.waitingFor)).toEqual([['patient'], ['patient']]);

    room.rejoin(patient); // new peer id, new keys; the doctor's peerReady sends them again
    await until(() => msgs(doctor).every((m) => m.delivery?.waitingFor.length === 0));
    expect(shown(patient)).toEqual([
      [text, 'text', 'received'],
      [file, 'file', 'received'],
    ]);
    expect(msgs(patient)[0]).toMatchObject({ text: 'Votre ordonnance arrive', from: 'doctor-1', fromParticipant: 'doctor', fromName: 'Name of doctor' });
    expect(sameBytes(await blobBytes(patient, msgs(patient)[1]), data)).toBe(true);
    expect(msgs(doctor).map((m) => m.delivery)).toEqual([
      { waitingFor: [], acknowledgedBy: ['patient'] },
      { waitingFor: [], acknowledgedBy: ['patient'] },
    ]);
    // Nothing more is sent once acknowledged (the back-off would have fired by now in this setup).
    const sent = room.relay.seen.length;
    await settle(60);
    expect(room.relay.seen.length).toBe(sent);
    expect(patient.chat.snapshot()).toMatchObject({ couldNotDecrypt: 0, dropped: 0 });
  });

  it('a file cut in the middle by the drop completes after the rejoin, once', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const data = png(6 * CHAT_CHUNK_BYTES, 8);
    let n = 0;
    room.relay.tamper = (to, note) => {
      if (to === patient.peerId && ++n === 3) room.drop(patient); // after two chunks reached the patient
      return note;
    };
    const id = await doctor.chat.sendFile(new File([data as BlobPart], 'scan.png', { type: 'image/png' }));
    expect(msgs(patient)[0]).toMatchObject({ id, status: 'receiving' });
    room.relay.tamper = undefined;
    room.rejoin(patient);
    await until(() => msgs(patient)[0]?.status === 'received');
    expect(msgs(patient)).toHaveLength(1);
    expect(sameBytes(await blobBytes(patient, msgs(patient)[0]), data)).toBe(true);
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
  });

  it('with three people, the one who stayed is not disturbed and the one who came back gets what it missed', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const interpreter = room.join('interpreter');
    room.drop(patient);
    const id = await doctor.chat.sendText('pendant la coupure');
    expect(msgs(interpreter).map((m) => m.text)).toEqual(['pendant la coupure']);
    await until(() => msgs(doctor)[0]?.delivery?.acknowledgedBy.includes('interpreter') === true);
    expect(msgs(doctor)[0]?.delivery?.waitingFor).toEqual(['patient']);
    const before = msgs(interpreter)[0];
    room.rejoin(patient);
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
    expect(shown(patient)).toEqual([[id, 'text', 'received']]);
    expect(msgs(interpreter)).toHaveLength(1);
    expect(msgs(interpreter)[0]).toBe(before); // the re-send reached it too: ignored, not shown again
  });
});

describe('duplicates and receipts', () => {
  it('a duplicate is not shown twice but acknowledged again; receipts stop the re-sends', async () => {
    const room = new Room();
    const doctor = room.join('doctor', { redelivery: { firstMs: 15, maxMs: 15, attempts: 40 } });
    const patient = room.join('patient', { receiptRepeatMs: 5 });
    // The patient's receipts get lost on the way back, for a while.
    let lose = true;
    room.relay.tamper = (to, note) => (lose && to === doctor.peerId ? undefined : note);
    const id = await doctor.chat.sendText('bonjour');
    await until(() => chunksOf(room, doctor, id).length >= 3); // sent again, with back-off
    expect(shown(patient)).toEqual([[id, 'text', 'received']]); // shown once
    expect(receiptsFrom(room, patient, [id]).length).toBeGreaterThanOrEqual(1);
    expect(msgs(doctor)[0]?.delivery?.waitingFor).toEqual(['patient']);

    lose = false;
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0, 3_000);
    const transmissions = chunksOf(room, doctor, id).length;
    await settle(80);
    expect(chunksOf(room, doctor, id).length).toBe(transmissions); // acknowledged: no more re-sends
    expect(shown(patient)).toEqual([[id, 'text', 'received']]);
  });

  it('without receipts the sender gives up after a bounded number of re-sends, and tries again when the peer comes back', async () => {
    const room = new Room();
    const doctor = room.join('doctor', { redelivery: { firstMs: 5, maxMs: 10, attempts: 3 } });
    const patient = room.join('patient');
    room.relay.tamper = (to, note) => (to === doctor.peerId ? undefined : note);
    const id = await doctor.chat.sendText('silence');
    await until(() => chunksOf(room, doctor, id).length === 1 + 3);
    await settle(100); // and no more
    expect(chunksOf(room, doctor, id)).toHaveLength(1 + 3);
    room.relay.tamper = undefined;
    room.rejoin(patient);
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
    expect(shown(patient)).toEqual([[id, 'text', 'received']]);
  });

  it('a replayed message is acknowledged at most once per interval (no receipt flood)', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const id = await doctor.chat.sendText('une fois');
    await until(() => receiptsFrom(room, patient, [id]).length === 1);
    const original = chunksOf(room, doctor, id)[0]!;
    for (let i = 0; i < 30; i++) {
      room.relay.deliver(patient.peerId, original); // a hostile server replays it, again and again
      await settle(4);
    }
    await settle(10);
    expect(receiptsFrom(room, patient, [id]).length).toBeLessThanOrEqual(2);
    expect(REPEAT_MS).toBeGreaterThanOrEqual(1_000);
    expect(shown(patient)).toEqual([[id, 'text', 'received']]);
  });

  it('a receipt is never shown, stored or acknowledged', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const id = await doctor.chat.sendText('x');
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
    await settle(20);
    expect(msgs(doctor).map((m) => m.id)).toEqual([id]);
    expect(receiptsFrom(room, doctor, [id])).toHaveLength(0); // the doctor did not acknowledge the receipt
    expect(msgs(patient).map((m) => m.id)).toEqual([id]);
  });
});

describe('a sender whose connection drops', () => {
  it('pause/resume loses nothing: a file cut mid-way and a text typed meanwhile both arrive once', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const data = png(5 * CHAT_CHUNK_BYTES + 3, 2);
    let n = 0;
    room.relay.tamper = (_to, note) => {
      if (note.from === doctor.peerId && ++n === 2) room.drop(doctor);
      return note;
    };
    const fileSent = doctor.chat.sendFile(new File([data as BlobPart], 'bilan.png', { type: 'image/png' }));
    await until(() => doctor.chat.snapshot().paused);
    const textSent = doctor.chat.sendText('pendant la coupure');
    await settle(30);
    expect(msgs(doctor).map((m) => m.status)).toEqual(['sending', 'sending']); // waiting, not failed
    room.relay.tamper = undefined;
    room.resume(doctor);
    await Promise.all([fileSent, textSent]);
    expect(msgs(doctor).map((m) => m.status)).toEqual(['sent', 'sent']);
    expect(msgs(patient).map((m) => m.status)).toEqual(['received', 'received']);
    expect(sameBytes(await blobBytes(patient, msgs(patient).find((m) => m.kind === 'file')), data)).toBe(true);
    await until(() => msgs(doctor).every((m) => m.delivery?.waitingFor.length === 0));
    expect(patient.chat.snapshot()).toMatchObject({ couldNotDecrypt: 0, dropped: 0 });
  });

  it("a chunk that got through but whose acknowledgement was lost is sent again and ignored as a duplicate", async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    // The server relays the first chunk, then the socket drops before its answer.
    const request = doctor.sig.request.bind(doctor.sig);
    let first = true;
    doctor.sig.request = async (name, payload) => {
      await request(name, payload);
      if (first) {
        first = false;
        room.drop(doctor);
        throw Object.assign(new Error('disconnected'), { code: 'disconnected' });
      }
      return {};
    };
    const sent = doctor.chat.sendFile(new File([png(2 * CHAT_CHUNK_BYTES, 3) as BlobPart], 'a.png', { type: 'image/png' }));
    await until(() => doctor.chat.snapshot().paused);
    room.resume(doctor);
    const id = await sent;
    expect(msgs(doctor)[0]).toMatchObject({ status: 'sent' });
    expect(chunksOf(room, doctor, id).filter((c) => c.index === 0)).toHaveLength(2);
    expect(shown(patient)).toEqual([[id, 'file', 'received']]);
    expect(patient.chat.snapshot().dropped).toBe(0);
  });

  it('a full rejoin in the middle of a file starts it again from chunk 0 under the new key, same id, received once', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const data = png(6 * CHAT_CHUNK_BYTES + 1, 6);
    let n = 0;
    room.relay.tamper = (_to, note) => {
      if (note.from === doctor.peerId && ++n === 3) room.drop(doctor);
      return note;
    };
    const sent = doctor.chat.sendFile(new File([data as BlobPart], 'irm.png', { type: 'image/png' }));
    await until(() => doctor.chat.snapshot().paused);
    room.relay.tamper = undefined;
    room.rejoin(doctor);
    const id = await sent;
    expect(msgs(doctor)[0]).toMatchObject({ id, status: 'sent' });
    await until(() => msgs(patient)[0]?.status === 'received');
    expect(sameBytes(await blobBytes(patient, msgs(patient)[0]), data)).toBe(true);
    const byPeer = (peer: string) => room.relay.seen.filter((s) => s.id === id && s.from === peer);
    expect(byPeer('doctor-2')[0]).toMatchObject({ index: 0 });
    expect(new Set(byPeer('doctor-2').map((s) => s.kid)).size).toBe(1);
    expect(byPeer('doctor-2')[0]!.kid).not.toBe(byPeer('doctor-1')[0]!.kid);
    expect(msgs(patient)).toHaveLength(1);
  });

  it("'not-joined' also waits instead of failing", async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    doctor.sig.failures.push({ code: 'not-joined' }, { code: 'not-joined' }, { code: 'disconnected' });
    await doctor.chat.sendText('patience');
    expect(msgs(doctor)[0]).toMatchObject({ status: 'sent' });
    expect(msgs(patient).map((m) => m.text)).toEqual(['patience']);
  });
});

describe('who is owed what', () => {
  it('a newcomer is not sent what was said before it arrived, but is sent what it could not read after', async () => {
    const room = new Room();
    const doctor = room.join('doctor', { redelivery: { firstMs: 10, maxMs: 10, attempts: 5 } });
    const patient = room.join('patient');
    const before = await doctor.chat.sendText('avant');
    // The interpreter arrives; it cannot decrypt the doctor's first message sent under the new key.
    const interpreter = room.join('interpreter');
    let lose = true;
    room.relay.tamper = (to, note) => (lose && to === interpreter.peerId ? undefined : note);
    const after = await doctor.chat.sendText('après');
    lose = false;
    await until(() => msgs(doctor)[1]?.delivery?.waitingFor.length === 0);
    expect(msgs(interpreter).map((m) => m.id)).toEqual([after]);
    expect(msgs(doctor)[0]?.delivery).toEqual({ waitingFor: [], acknowledgedBy: ['patient'] });
    expect(msgs(patient).map((m) => m.id)).toEqual([before, after]);
  });

  it('someone who left for good is no longer waited for', async () => {
    const room = new Room();
    const doctor = room.join('doctor', { redelivery: { firstMs: 5, maxMs: 5, attempts: 50 } });
    const patient = room.join('patient');
    room.drop(patient);
    const id = await doctor.chat.sendText('au revoir');
    expect(msgs(doctor)[0]?.delivery?.waitingFor).toEqual(['patient']);
    room.leave(patient);
    await settle(5);
    expect(msgs(doctor)[0]?.delivery?.waitingFor).toEqual([]);
    const count = chunksOf(room, doctor, id).length;
    await settle(50);
    expect(chunksOf(room, doctor, id).length).toBe(count);
  });

  it('a message received and sent again by hand is tracked too; the original sender is not waited for', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const patient = room.join('patient');
    const id = await doctor.chat.sendText('à transmettre');
    await until(() => msgs(patient).length === 1);
    const interpreter = room.join('interpreter');
    await patient.chat.resend(id);
    await until(() => msgs(interpreter).length === 1);
    await until(() => msgs(patient)[0]?.delivery?.acknowledgedBy.includes('interpreter') === true);
    expect(msgs(patient)[0]?.delivery?.waitingFor).toEqual([]);
    expect(msgs(interpreter)[0]).toMatchObject({ id, fromParticipant: 'patient', text: 'à transmettre' });
    expect(msgs(doctor)).toHaveLength(1);
  });
});

describe('ROOM', () => {
  it('is the id the sessions seal under', () => expect(ROOM).toBe('room-1'));
});
