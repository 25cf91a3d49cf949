/**
 * Key agreement benchmark: N participants (the real KeyAgreement, real
 * crypto) talk through a real Confide server over socket.io on loopback.
 * Measures key-exchange messages per join and per leave as N grows, and the
 * time from a participant's leave to each remaining sender switching to its
 * new key (the next frame it sends is under that key).
 */
import type { Socket } from 'socket.io-client';
import { connectSocket } from '../tests/support/socket-client.ts';
import pino from 'pino';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { startConfide, type ConfideServer } from '../server/app.ts';
import type { User } from '../server/store/users.ts';
import { KeyAgreement } from '../shared/e2ee/key-agreement.ts';
import { deriveRoomAuthKey, generateRoomSecret } from '../shared/crypto/room-secret.ts';
import { parseKid } from '../shared/crypto/key-schedule.ts';

interface Participant {
  socket: Socket;
  agreement: KeyAgreement;
  peerId: string;
  sent: number; // announceKey + sendKey requests
  switches: { at: number; epoch: number }[];
}

const SIZES = [2, 4, 8];

async function request<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const ack = (await socket.timeout(5000).emitWithAck(event, payload)) as { ok: boolean; data: T; error?: unknown };
  if (!ack.ok) throw new Error(`${event}: ${JSON.stringify(ack.error)}`);
  return ack.data;
}

interface Room {
  server: ConfideServer;
  id: string;
  doctor: User;
  doctorSession: string;
  patientToken: string;
  secret: Uint8Array;
}

/** The first participant is the doctor; the others are patients the doctor admits. */
async function join(room: Room, name: string, asDoctor: boolean): Promise<Participant> {
  const { server, id: roomId, secret } = room;
  const socket = await connectSocket(server.url, asDoctor ? room.doctorSession : undefined);
  if (!asDoctor) {
    const admitted = new Promise((r) => socket.once('admitted', r));
    await request(socket, 'enterWaitingRoom', { consultationId: roomId, token: room.patientToken, displayName: name });
    const entry = server.consultations.waitingList(roomId).find((w) => w.displayName === name)!;
    server.consultations.admit(room.doctor, roomId, entry.requestId);
    await admitted;
  }
  type Joined = { peerId: string; slot: number; peers: { peerId: string; slot: number; key?: { publicKey: string; mac: string } }[] };
  const early: (() => void)[] = [];
  let p: Participant | undefined;
  const whenReady = (f: (p: Participant) => void) => (p ? f(p) : early.push(() => f(p!)));
  socket.on('keyAnnounced', (a) =>
    whenReady((q) => q.agreement.handleAnnouncement({ ...a, publicKey: hexToBytes(a.publicKey), mac: hexToBytes(a.mac) }, true)),
  );
  socket.on('keyDelivered', (d) => whenReady((q) => q.agreement.handleDelivery({ ...d, box: hexToBytes(d.box) })));
  socket.on('peerLeft', ({ peerId }) => whenReady((q) => q.agreement.handlePeerLeft(peerId)));
  const joined = await request<Joined>(socket, 'join', { roomId, displayName: name });
  const participant: Participant = { socket, peerId: joined.peerId, sent: 0, switches: [], agreement: undefined as never };
  participant.agreement = new KeyAgreement({
    roomId,
    selfId: joined.peerId,
    slot: joined.slot,
    authKey: deriveRoomAuthKey(secret, roomId),
    sink: {
      setLocalKey: async (kid) => {
        participant.switches.push({ at: performance.now(), epoch: parseKid(kid).epoch });
      },
      addRemoteKey: () => undefined,
      removeRemoteKey: () => undefined,
    },
    transport: {
      announce: (publicKey, mac) => {
        participant.sent++;
        void request(socket, 'announceKey', { publicKey: bytesToHex(publicKey), mac: bytesToHex(mac) });
      },
      deliver: (to, kid, box) => {
        participant.sent++;
        void request(socket, 'sendKey', { to, kid, box: bytesToHex(box) });
      },
    },
    onEvent: () => undefined,
  });
  await participant.agreement.start();
  p = participant;
  for (const a of joined.peers) {
    if (a.key) p.agreement.handleAnnouncement({ peerId: a.peerId, slot: a.slot, publicKey: hexToBytes(a.key.publicKey), mac: hexToBytes(a.key.mac) }, false);
  }
  for (const f of early.splice(0)) f();
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const totalSent = (ps: Participant[]) => ps.reduce((n, p) => n + p.sent, 0);

export interface KeyBenchRow {
  n: number;
  joinMessages: number;
  leaveMessages: number;
  leaveToSwitchMedianMs: number;
  leaveToSwitchMaxMs: number;
}

export async function benchKeys(): Promise<KeyBenchRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-bench-'));
  const server = await startConfide(loadConfig({ CONFIDE_PORT: '0', CONFIDE_WORKERS: '1', CONFIDE_DATA_DIR: dataDir }), {
    logger: pino({ level: 'silent' }),
  });
  const doctor = await server.stores.users.create({ email: 'bench@clinic.test', name: 'Dr Bench', role: 'doctor', password: 'benchmark lantern river' });
  const rows: KeyBenchRow[] = [];
  try {
    for (const n of SIZES) {
      const { consultation, patientToken } = server.stores.consultations.create({
        doctorId: doctor.id,
        patientName: 'Bench',
        scheduledAt: Date.now(),
        createdBy: 'system',
      });
      const room: Room = {
        server,
        id: consultation.id,
        doctor,
        doctorSession: server.stores.sessions.create(doctor.id),
        patientToken,
        secret: generateRoomSecret(),
      };
      const ps: Participant[] = [];
      for (let i = 0; i < n - 1; i++) ps.push(await join(room, `p${i}`, i === 0));
      await sleep(300);
      const before = totalSent(ps);
      const last = await join(room, `p${n - 1}`, false);
      ps.push(last);
      await sleep(500);
      const joinMessages = totalSent(ps) - before;

      const leaver = ps.pop()!; // the newest patient leaves
      const stay = ps;
      const beforeLeave = totalSent(stay);
      const epochs = stay.map((p) => p.switches.at(-1)!.epoch);
      const leftAt = performance.now();
      await request(leaver.socket, 'leave', {});
      leaver.socket.close();
      await sleep(1500);
      const delays = stay.map((p, i) => {
        const sw = p.switches.find((s) => s.at > leftAt && s.epoch !== epochs[i]);
        return sw ? sw.at - leftAt : Infinity;
      });
      delays.sort((a, b) => a - b);
      rows.push({
        n,
        joinMessages,
        leaveMessages: totalSent(stay) - beforeLeave,
        leaveToSwitchMedianMs: delays[delays.length >> 1]!,
        leaveToSwitchMaxMs: delays[delays.length - 1]!,
      });
      for (const p of stay) {
        p.agreement.close();
        p.socket.close();
      }
      leaver.agreement.close();
    }
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

export function printKeys(rows: KeyBenchRow[]): void {
  console.log(
    'N participants, real KeyAgreement + real server over loopback socket.io. Messages = announceKey + sendKey\n' +
      'requests sent by all participants (each relayed once by the server). Switch = the sender installs its new\n' +
      'epoch key after every remaining participant acknowledged it (or 700 ms): its next frame uses it. Target ≤ 1000 ms.\n',
  );
  console.log('| N | messages per join | messages per leave | leave → new key, median ms | leave → new key, max ms | ≤ 1 s |');
  console.log('| - | - | - | - | - | - |');
  for (const r of rows) {
    const ok = r.leaveToSwitchMaxMs <= 1000 ? '✓' : '✗';
    console.log(
      `| ${r.n} | ${r.joinMessages} | ${r.leaveMessages} | ${r.leaveToSwitchMedianMs.toFixed(1)} | ${r.leaveToSwitchMaxMs.toFixed(1)} | ${ok} |`,
    );
  }
}
