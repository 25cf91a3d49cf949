/**
 * Key agreement benchmark: N participants (the real KeyAgreement, real
 * crypto) talk through a real Confide server over socket.io on loopback.
 * Measures key-exchange messages per join and per leave as N grows, the time
 * from a participant's leave to each remaining sender switching to its new
 * key (the next frame it sends is under that key), and the time from a join
 * to keys both ways (the newcomer can decrypt every sender's next frame and
 * every sender can decrypt the newcomer's: the key part of "join → first
 * decrypted frame"), split into its phases, with an added one-way delay on
 * every message a participant receives (0 ms: loopback; 25 ms: a WAN hop).
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
import { KeyAgreement, type RoundInfo } from '../shared/e2ee/key-agreement.ts';
import { deriveRoomAuthKey, generateRoomSecret } from '../shared/crypto/room-secret.ts';
import { parseKid } from '../shared/crypto/key-schedule.ts';

interface Participant {
  socket: Socket;
  agreement: KeyAgreement;
  peerId: string;
  sent: number; // keyCommit + keyReveal + sendKey requests
  switches: { at: number; epoch: number; kid: bigint }[];
  /** Keys received: sender, KID, when (explicit and lookahead). */
  keys: { peerId: string; kid: bigint; at: number }[];
  /** Per round: when we revealed (we then held every commitment), when the last reveal reached us, when it completed. */
  revealedAt: Map<number, number>;
  lastRevealAt: Map<number, number>;
  completedAt: Map<number, number>;
}

const SIZES = [2, 4, 8];
const DELAYS_MS = [0, 25];
const JOINS_PER_SIZE = 5;

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
  /** Added one-way delay on everything a participant receives (ms). */
  delayMs: number;
}

/** The first participant is the doctor; the others are patients the doctor admits. `t0` is set when the join request goes. */
async function join(room: Room, name: string, asDoctor: boolean, t0?: { at: number }): Promise<Participant> {
  const { server, id: roomId, secret } = room;
  const socket = await connectSocket(server.url, asDoctor ? room.doctorSession : undefined);
  if (!asDoctor) {
    const admitted = new Promise((r) => socket.once('admitted', r));
    await request(socket, 'enterWaitingRoom', { consultationId: roomId, token: room.patientToken, displayName: name });
    const entry = server.consultations.waitingList(roomId).find((w) => w.displayName === name)!;
    server.consultations.admit(room.doctor, roomId, entry.requestId, 'add'); // one more patient, not a second device
    await admitted;
  }
  type Joined = { peerId: string; slot: number; keyRound: RoundInfo };
  const early: (() => void)[] = [];
  let p: Participant | undefined;
  // A WAN hop: every message we receive arrives `delayMs` later (in order).
  const receive = (f: (p: Participant) => void) => {
    const run = () => (p ? f(p) : early.push(() => f(p!)));
    if (room.delayMs > 0) setTimeout(run, room.delayMs);
    else run();
  };
  socket.on('keyRound', (r) => receive((q) => q.agreement.handleRound(r)));
  socket.on('keyCommitted', (c) =>
    receive((q) => q.agreement.handleCommitment({ ...c, commitment: hexToBytes(c.commitment), mac: hexToBytes(c.mac) })),
  );
  socket.on('keyRevealed', (r) =>
    receive((q) => {
      q.lastRevealAt.set(r.round, performance.now());
      q.agreement.handleReveal({ ...r, publicKey: hexToBytes(r.publicKey), nonce: hexToBytes(r.nonce) });
    }),
  );
  socket.on('keyDelivered', (d) => receive((q) => q.agreement.handleDelivery({ ...d, box: hexToBytes(d.box) })));
  socket.on('peerLeft', ({ peerId }) => receive((q) => q.agreement.handlePeerLeft(peerId)));
  if (t0) t0.at = performance.now();
  const joined = await request<Joined>(socket, 'join', { roomId, displayName: name });
  if (room.delayMs > 0) await sleep(room.delayMs); // the join answer crosses the same hop
  const participant: Participant = {
    socket,
    peerId: joined.peerId,
    sent: 0,
    switches: [],
    keys: [],
    revealedAt: new Map(),
    lastRevealAt: new Map(),
    completedAt: new Map(),
    agreement: undefined as never,
  };
  const send = (event: string, payload: unknown) => {
    participant.sent++;
    void request(socket, event, payload).catch(() => undefined); // a round already over: refused, harmless
  };
  participant.agreement = new KeyAgreement({
    roomId,
    selfId: joined.peerId,
    slot: joined.slot,
    authKey: deriveRoomAuthKey(secret, roomId),
    sink: {
      setLocalKey: async (kid) => {
        participant.switches.push({ at: performance.now(), epoch: parseKid(kid).epoch, kid });
      },
      addRemoteKey: (peerId, kid) => {
        participant.keys.push({ peerId, kid, at: performance.now() });
      },
      removeRemoteKey: () => undefined,
    },
    transport: {
      commit: (round, commitment, mac) => send('keyCommit', { round, commitment: bytesToHex(commitment), mac: bytesToHex(mac) }),
      reveal: (round, publicKey, nonce) => {
        participant.revealedAt.set(round, performance.now());
        send('keyReveal', { round, publicKey: bytesToHex(publicKey), nonce: bytesToHex(nonce) });
      },
      deliver: (to, kid, box) => send('sendKey', { to, kid, box: bytesToHex(box) }),
    },
    onEvent: (e) => {
      if (e.type === 'roundComplete') participant.completedAt.set(e.round, performance.now());
    },
  });
  const started = participant.agreement.start(joined.keyRound);
  p = participant;
  for (const f of early.splice(0)) f();
  await started;
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const totalSent = (ps: Participant[]) => ps.reduce((n, p) => n + p.sent, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** When `receiver` first held a key for `sender`'s current KID (or undefined). */
function heldAt(receiver: Participant, sender: Participant): number | undefined {
  const kid = sender.switches.at(-1)?.kid;
  return receiver.keys.find((k) => k.peerId === sender.peerId && k.kid === kid)?.at;
}

export interface KeyBenchRow {
  n: number;
  joinMessages: number;
  leaveMessages: number;
  leaveToSwitchMedianMs: number;
  leaveToSwitchMaxMs: number;
}

export interface JoinTimingRow {
  n: number;
  delayMs: number;
  /** join request → the newcomer held every commitment of its round and revealed. */
  commitMs: number;
  /** join request → the round complete on every participant (the code shows). */
  roundMs: number;
  /** join request → keys both ways between the newcomer and every sender. */
  keysMs: number;
  /** keysMs without the reveal phase (the extra message the commit-then-reveal round adds). */
  withoutRevealMs: number;
}

export async function benchKeys(): Promise<{ rows: KeyBenchRow[]; joins: JoinTimingRow[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-bench-'));
  const server = await startConfide(loadConfig({ CONFIDE_PORT: '0', CONFIDE_WORKERS: '1', CONFIDE_DATA_DIR: dataDir }), {
    logger: pino({ level: 'silent' }),
  });
  const doctor = await server.stores.users.create({ email: 'bench@clinic.test', name: 'Dr Bench', role: 'doctor', password: 'benchmark lantern river' });
  const rows: KeyBenchRow[] = [];
  const joins: JoinTimingRow[] = [];
  const newRoom = async (delayMs: number): Promise<Room> => {
    const { consultation, patientToken } = await server.stores.consultations.create({
      doctorId: doctor.id,
      patientName: 'Bench',
      scheduledAt: Date.now(),
      createdBy: 'system',
    });
    return {
      server,
      id: consultation.id,
      doctor,
      doctorSession: await server.stores.sessions.create(doctor.id),
      patientToken,
      secret: generateRoomSecret(),
      delayMs,
    };
  };
  const closeAll = (ps: Participant[]) => {
    for (const p of ps) {
      p.agreement.close();
      p.socket.close();
    }
  };
  try {
    for (const n of SIZES) {
      const room = await newRoom(0);
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
      closeAll(stay);
      leaver.agreement.close();
    }

    for (const delayMs of DELAYS_MS) {
      for (const n of SIZES) {
        const samples: Omit<JoinTimingRow, 'n' | 'delayMs'>[] = [];
        for (let run = 0; run < JOINS_PER_SIZE; run++) {
          const room = await newRoom(delayMs);
          const ps: Participant[] = [];
          for (let i = 0; i < n - 1; i++) ps.push(await join(room, `p${i}`, i === 0));
          await sleep(200 + 4 * delayMs);
          const t0 = { at: 0 };
          const newcomer = await join(room, `p${n - 1}`, false, t0);
          await sleep(500 + 6 * delayMs);
          const round = newcomer.agreement.roundState!.round;
          const keys = ps.flatMap((s) => [heldAt(newcomer, s), heldAt(s, newcomer)]);
          const completed = [newcomer, ...ps].map((p) => p.completedAt.get(round));
          const revealAt = newcomer.revealedAt.get(round);
          if (keys.some((k) => k === undefined) || completed.some((c) => c === undefined) || revealAt === undefined) {
            throw new Error(`join of participant ${n} did not complete`);
          }
          const keysMs = Math.max(...(keys as number[])) - t0.at;
          // The reveal phase: from holding every commitment to the last reveal's arrival, at the newcomer
          // (admitting the others after it, pairwise keys and all, was done for announcements too).
          const revealPhase = Math.max(0, (newcomer.lastRevealAt.get(round) ?? revealAt) - revealAt);
          samples.push({
            commitMs: revealAt - t0.at,
            roundMs: Math.max(...(completed as number[])) - t0.at,
            keysMs,
            withoutRevealMs: keysMs - revealPhase,
          });
          closeAll([...ps, newcomer]);
          await sleep(50);
        }
        joins.push({
          n,
          delayMs,
          commitMs: median(samples.map((s) => s.commitMs)),
          roundMs: median(samples.map((s) => s.roundMs)),
          keysMs: median(samples.map((s) => s.keysMs)),
          withoutRevealMs: median(samples.map((s) => s.withoutRevealMs)),
        });
      }
    }
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return { rows, joins };
}

export function printKeys({ rows, joins }: { rows: KeyBenchRow[]; joins: JoinTimingRow[] }): void {
  console.log(
    'N participants, real KeyAgreement + real server over loopback socket.io. Messages = keyCommit + keyReveal +\n' +
      'sendKey requests sent by all participants (each relayed once by the server). Switch = the sender installs its new\n' +
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
  console.log(
    `\nJoin of the N-th participant → keys both ways (the newcomer holds every sender's current key and every sender\n` +
      `holds the newcomer's: the first frame each way can be decrypted), median of ${JOINS_PER_SIZE} joins, from the join request.\n` +
      'Every message a participant receives is delayed by the one-way delay (0: loopback; 25 ms: a WAN hop).\n' +
      'Reveal phase = what commit-then-reveal adds: the newcomer held every commitment (and revealed) → the last reveal reached it.\n' +
      '"Without it" = keys both ways minus that phase: what the same join took when keys were announced in one message.\n',
  );
  console.log('| N | one-way delay ms | → commitments held ms | → round complete everywhere ms | → keys both ways ms | without the reveal phase ms | added ms |');
  console.log('| - | - | - | - | - | - | - |');
  for (const j of joins) {
    console.log(
      `| ${j.n} | ${j.delayMs} | ${j.commitMs.toFixed(1)} | ${j.roundMs.toFixed(1)} | ${j.keysMs.toFixed(1)} | ${j.withoutRevealMs.toFixed(1)} | ${(j.keysMs - j.withoutRevealMs).toFixed(1)} |`,
    );
  }
}
