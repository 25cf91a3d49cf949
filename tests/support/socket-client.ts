// A socket.io client for integration tests; with `session`, signed in as that staff member.
import { io, type Socket } from 'socket.io-client';

export type AckShape = { ok: boolean; data?: unknown; error?: { code: string; message: string } };

export function connectSocket(url: string, session?: string): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(session ? { extraHeaders: { cookie: `confide_session=${session}` } } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export function send(socket: Socket, event: string, ...args: unknown[]): Promise<AckShape> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<AckShape>;
}

/**
 * A doctor and an admitted patient ("Zoé") in `c`'s call on `server`, over
 * raw sockets: the doctor joins, the patient enters the waiting room, is
 * admitted server-side and joins. Returns both sockets and the patient's join answer.
 */
export async function socketCall(
  server: { url: string; consultations: { waitingList(id: string): { requestId: string; displayName: string }[]; admit(doctor: never, id: string, requestId: string): Promise<void> } },
  c: { id: string; doctor: unknown; doctorSession: string; patientToken: string },
): Promise<{ doctor: Socket; patient: Socket; patientJoin: AckShape }> {
  const doctor = await connectSocket(server.url, c.doctorSession);
  const patient = await connectSocket(server.url);
  const ok = (a: AckShape, what: string) => {
    if (!a.ok) throw new Error(`${what}: ${a.error?.code}`);
  };
  ok(await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' }), 'doctor join');
  ok(await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' }), 'enterWaitingRoom');
  const entry = server.consultations.waitingList(c.id).find((w) => w.displayName === 'Zoé')!;
  await server.consultations.admit(c.doctor as never, c.id, entry.requestId);
  const patientJoin = await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' });
  ok(patientJoin, 'patient join');
  return { doctor, patient, patientJoin };
}
