// Picks the renderer: the listr2 tree on a TTY, plain lines without one, JSON lines on request.
// The tree (and listr2) is loaded only when used.
import type { OutputMode } from '../request.js';
import { jsonRenderer } from './json.js';
import { plainRenderer } from './plain.js';
import type { Io, Renderer } from './types.js';

export function resolveOutput(mode: OutputMode, io: Io): Exclude<OutputMode, 'auto'> {
  if (mode !== 'auto') return mode;
  return io.stdout.isTTY && io.env.TERM !== 'dumb' ? 'tree' : 'plain';
}

export async function createRenderer(mode: OutputMode, io: Io): Promise<Renderer> {
  const resolved = resolveOutput(mode, io);
  if (resolved === 'json') return jsonRenderer(io);
  if (resolved === 'plain') return plainRenderer(io);
  const { treeRenderer } = await import('./tree.js');
  return treeRenderer(io);
}
