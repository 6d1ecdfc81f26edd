// What the commands that talk to a cluster share: the flags are checked before the kubeconfig is
// read, the target is named before anything else, and the outcome is shown once, by the renderer.
import type { TargetSummary } from '../kube/config.js';
import type { Connection } from '../kube/connect.js';
import { announceTarget, kubeTarget, type KubeArgv } from './flags.js';
import { createRenderer } from './render/index.js';
import type { Io, Renderer } from './render/types.js';
import type { OutputMode } from './request.js';
import { Reported } from './reported.js';
import { testKillHook } from './test-hooks.js';

/**
 * Checks the flags with `complete`, then connects. The kubeconfig is read only once the flags are
 * valid (a usage error must not depend on having one); while they are checked, only for the
 * context's namespace when -n is not given. The client is loaded here, not at the top: `--help`
 * must not load @kubernetes/client-node.
 */
export async function connectAfterFlags<A extends KubeArgv, T extends object>(
  argv: A,
  io: Io,
  complete: (argv: A, contextNamespace: () => string) => T,
): Promise<T & { connection: Connection }> {
  const { connect } = await import('../kube/connect.js');
  let connection: Connection | undefined;
  const kube = kubeTarget(argv, io.env);
  const completed = complete(argv, () => (connection ??= connect(kube)).namespace);
  connection ??= connect(kube);
  return { ...completed, connection };
}

/** The renderer of `output`, after it named the target: the first thing a command shows. */
export async function rendererFor(io: Io, output: OutputMode, target: TargetSummary): Promise<Renderer> {
  const renderer = await createRenderer(output, io);
  announceTarget(target, renderer, output, io);
  return renderer;
}

/**
 * Runs `work`, then ends the renderer with how it went. An error leaves as Reported: the renderer
 * has shown it, so main.ts only sets the exit code.
 */
export async function endWithOutcome(renderer: Renderer, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    await renderer.end();
  } catch (err) {
    await renderer.end(err);
    throw new Reported(err);
  }
}

/**
 * The renderer's emit, and the test-only kill hook (src/cli/test-hooks.ts) called on the first
 * progress event and after each step: what a move and a batch both run with.
 */
export function emitWithKillHook(
  renderer: Renderer,
  env: NodeJS.ProcessEnv,
): { emit: Renderer['emit']; kill: ((point: string) => void) | undefined } {
  const kill = testKillHook(env);
  const emit: Renderer['emit'] = (e) => {
    renderer.emit(e);
    if (e.type === 'progress') kill?.(e.step === 'warm-copy' ? 'warm-copy-progress' : 'copy-progress');
  };
  return { emit, kill };
}
