// Progress of a transfer: on a terminal one line redrawn in place (bytes, rate, time left); elsewhere plain lines,
// one per step, that a log keeps readably.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export class Progress {
  private done = 0;
  private total = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly label: string;

  constructor(out: NodeJS.WriteStream, label: string) {
    this.out = out;
    this.label = label;
    this.tty = out.isTTY === true;
  }

  setTotal(bytes: number): void {
    this.total = bytes;
  }

  addTotal(bytes: number): void {
    this.total += bytes;
  }

  add(bytes: number): void {
    this.done += bytes;
    if (this.tty && Date.now() - this.lastDraw > 100) this.draw();
  }

  /** A step done: its own line (above the bar on a terminal). */
  line(message: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(message + '\n');
    if (this.tty && this.total > 0) this.draw();
  }

  finish(): void {
    if (this.tty && this.total > 0) {
      this.draw();
      this.out.write('\n');
    }
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const pct = this.total > 0 ? Math.floor((this.done / this.total) * 100) : 100;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    this.out.write(
      `\r\x1b[K${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${formatBytes(this.done)}/${formatBytes(this.total)} ${formatBytes(rate)}/s ETA ${formatSeconds(eta)}`,
    );
  }
}
