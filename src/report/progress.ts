/**
 * Progress of a long run on stderr: a bar redrawn in place on a terminal, one line per step
 * otherwise (CI logs), so that neither floods nor stays silent.
 */
export interface Progress {
  step(label: string): void;
  done(): void;
}

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr, prefix = 'parity'): Progress {
  let current = 0;
  const interactive = Boolean(stream.isTTY) && !process.env['CI'];
  const width = 24;
  return {
    step(label) {
      current++;
      if (!interactive) {
        stream.write(`${prefix}: [${current}/${total}] ${label}\n`);
        return;
      }
      const filled = Math.round((width * (current - 1)) / Math.max(1, total));
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      stream.write(`\r\x1b[2K${prefix} ${bar} ${current}/${total} ${label}`);
    },
    done() {
      if (interactive) stream.write(`\r\x1b[2K${prefix}: ${total}/${total} done\n`);
    },
  };
}
