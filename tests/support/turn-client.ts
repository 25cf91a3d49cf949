// A minimal TURN client for tests: enough STUN (RFC 8489) to send one
// Allocate (RFC 8656) with coturn's REST-API credentials and read the answer.
import crypto from 'node:crypto';
import dgram from 'node:dgram';

const MAGIC = 0x2112a442;
function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc(pad)]);
}
function message(type: number, tid: Buffer, attrs: Buffer[], key?: Buffer): Buffer {
  let body = Buffer.concat(attrs);
  const header = (len: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tid.copy(h, 8);
    return h;
  };
  if (key) {
    const forMac = Buffer.concat([header(body.length + 24), body]);
    const mac = crypto.createHmac('sha1', key).update(forMac).digest();
    body = Buffer.concat([body, attr(0x0008, mac)]);
  }
  return Buffer.concat([header(body.length), body]);
}
function parse(b: Buffer): { type: number; attrs: Map<number, Buffer> } {
  const type = b.readUInt16BE(0);
  const attrs = new Map<number, Buffer>();
  let o = 20;
  while (o + 4 <= b.length) {
    const t = b.readUInt16BE(o);
    const l = b.readUInt16BE(o + 2);
    attrs.set(t, b.subarray(o + 4, o + 4 + l));
    o += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type, attrs };
}
function request(sock: dgram.Socket, host: string, port: number, msg: Buffer): Promise<{ type: number; attrs: Map<number, Buffer> }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), 3000);
    sock.once('message', (m) => {
      clearTimeout(t);
      resolve(parse(m));
    });
    sock.send(msg, port, host);
  });
}
/**
 * One TURN Allocate over UDP (RFC 8656 §7, long-term credentials, RFC 8489
 * §9.2) from `bindIp`: resolves 'ok' or the error code ('486': quota reached,
 * '508': no capacity). Its socket goes into `sockets` (the allocation lives
 * while it is open); rejects after 3 s without an answer.
 */
export async function allocate(host: string, port: number, username: string, password: string, sockets: dgram.Socket[], bindIp: string): Promise<string> {
  const sock = dgram.createSocket('udp4');
  sockets.push(sock);
  await new Promise<void>((r) => sock.bind(0, bindIp, () => r()));
  const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
  const first = await request(sock, host, port, message(0x0003, crypto.randomBytes(12), [transport]));
  const realm = first.attrs.get(0x0014)!;
  const nonce = first.attrs.get(0x0015)!;
  const key = crypto.createHash('md5').update(`${username}:${realm.toString()}:${password}`).digest();
  const res = await request(
    sock,
    host,
    port,
    message(0x0003, crypto.randomBytes(12), [transport, attr(0x0006, Buffer.from(username)), attr(0x0014, realm), attr(0x0015, nonce)], key),
  );
  if (res.type === 0x0103) return 'ok';
  const e = res.attrs.get(0x0009);
  return e ? String(e[2]! * 100 + e[3]!) : `type ${res.type}`;
}

