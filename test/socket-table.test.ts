// The socket-table reader: lines found across the pieces it reads in, listening sockets only up to the first other
// state (where the kernel's listing of listeners ends), and the connection matched by its exact address pair.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { establishedSocket, hexPort, listeningInodes } from '../src/spawner/local/socket-table.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-socket-table-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
/** One line as the kernel prints it (padded to 149 characters and a newline). */
function line(sl: number, local: string, remote: string, state: string, uid: number, inode: number): string {
  return `${String(sl).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)} ${String(0).padStart(8)} ${inode} 1 0000000000000000 100 0 0 10 0`.padEnd(149) + '\n';
}
const LOCAL = '0100007F';
function table(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, HEADER + lines.join(''));
  return file;
}

describe('listeningInodes', () => {
  it('finds every listener on the port, across the pieces it reads, and stops at the first connection', () => {
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(line(i, `${LOCAL}:${hexPort(20000 + i)}`, '00000000:0000', '0A', 0, 1000 + i));
    // the same port twice (two addresses), one near the end of the first 32 KB piece
    lines.splice(218, 0, line(999, `00000000:${hexPort(30001)}`, '00000000:0000', '0A', 0, 555));
    lines.push(line(601, `${LOCAL}:${hexPort(30001)}`, '00000000:0000', '0A', 0, 556));
    // a connection from that port after the listeners: not a listener
    lines.push(line(602, `${LOCAL}:${hexPort(30001)}`, `${LOCAL}:${hexPort(40000)}`, '01', 0, 557));
    // nothing after that is read (the kernel lists no listener there; this one shows the reading stopped)
    lines.push(line(603, `${LOCAL}:${hexPort(30001)}`, '00000000:0000', '0A', 0, 558));
    const file = table('listen', lines);
    expect(fs.statSync(file).size).toBeGreaterThan(64 * 1024);
    expect(listeningInodes(30001, [file])).toEqual(new Set(['555', '556']));
    expect(listeningInodes(20599, [file])).toEqual(new Set(['1599']));
    // a port that only appears as the remote end of a line does not count
    expect(listeningInodes(40000, [file])).toEqual(new Set());
  });

  it('says null when no table can be read, and reads those that can', () => {
    const file = table('one', [line(0, `${LOCAL}:${hexPort(8000)}`, '00000000:0000', '0A', 0, 42)]);
    expect(listeningInodes(8000, [path.join(dir, 'missing')])).toBeNull();
    expect(listeningInodes(8000, [path.join(dir, 'missing'), file])).toEqual(new Set(['42']));
  });

  it('sees a real listener in /proc/net/tcp', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(listeningInodes(port, ['/proc/net/tcp'])!.size).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe('establishedSocket', () => {
  it('finds the connection by its exact pair, also where a piece of the read cuts its line', async () => {
    const lines: string[] = [];
    // more than the 1 MiB piece, with the wanted line across the cut
    for (let i = 0; i < 8000; i++) lines.push(line(i, `${LOCAL}:${hexPort(10000 + i)}`, `${LOCAL}:${hexPort(8081)}`, '01', 0, 5000 + i));
    const cut = Math.floor((1024 * 1024 - HEADER.length) / 150);
    const pair = `${LOCAL}:${hexPort(10000 + cut)} ${LOCAL}:${hexPort(8081)}`;
    const file = table('conns', lines);
    expect(await establishedSocket(file, pair)).toEqual({ inode: String(5000 + cut), uid: 0 });
    // a TIME_WAIT line with the same pair is not it
    const tw = table('tw', [line(0, `${LOCAL}:${hexPort(12345)}`, `${LOCAL}:${hexPort(8081)}`, '06', 0, 1), line(1, `${LOCAL}:${hexPort(12345)}`, `${LOCAL}:${hexPort(8081)}`, '01', 7, 2)]);
    expect(await establishedSocket(tw, `${LOCAL}:${hexPort(12345)} ${LOCAL}:${hexPort(8081)}`)).toEqual({ inode: '2', uid: 7 });
    expect(await establishedSocket(file, `${LOCAL}:${hexPort(9)} ${LOCAL}:${hexPort(8081)}`)).toBeNull();
    expect(await establishedSocket(path.join(dir, 'missing'), pair)).toBeNull();
  });
});
