/** The first diverging layers of one pass, forward and backward, as sentences; `where`: "model on backend[, training mode]". */
export function passLines(where: string, why: string, forward: string | null | undefined, backward: string | null | undefined): string[] {
  const lines: string[] = [];
  if (forward) lines.push(`${where}: first diverging layer is '${forward}' (${why})`);
  if (backward) {
    lines.push(
      `${where}: first diverging layer in the backward pass is '${backward}' ` +
        `(its output gradient within tolerance, its weight gradients or the gradient it sends back out of it)`,
    );
  }
  return lines;
}
