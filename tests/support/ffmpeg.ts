// Decodes an IVF file with Debian's ffmpeg and reports the frames it produced.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DecodeResult {
  /** Sizes ("640x480") of every frame ffmpeg decoded. */
  frameSizes: string[];
  errors: number;
}

export function decodeIvf(ivf: Uint8Array): DecodeResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-ivf-'));
  const file = path.join(dir, 'capture.ivf');
  fs.writeFileSync(file, ivf);
  try {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-i', file, '-vf', 'showinfo', '-f', 'null', '-'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.error) throw r.error;
    const lines = r.stderr.split('\n');
    const frameSizes = lines.filter((l) => l.includes('Parsed_showinfo') && / n:\s*\d+/.test(l)).map((l) => / s:(\d+x\d+)/.exec(l)?.[1] ?? '?');
    const errors = lines.filter((l) => /error|invalid/i.test(l)).length;
    return { frameSizes, errors };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
