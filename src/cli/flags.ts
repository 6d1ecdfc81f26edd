// Flags shared by every command. kubectl passes everything after the plugin name through, so the
// plugin implements -n/--namespace, --context and --kubeconfig itself.
import type { Argv } from 'yargs';

export function withKubeFlags<T>(y: Argv<T>) {
  return y
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: "Namespace of the claim (default: the context's)",
    })
    .option('context', { type: 'string', describe: 'kubeconfig context to use' })
    .option('kubeconfig', {
      type: 'string',
      describe: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'auto (tree on a TTY, plain otherwise), tree, plain, or json (one event per line)',
      default: 'auto',
    })
    .option('yes', { alias: 'y', type: 'boolean', describe: 'Do not ask for confirmation on a terminal' });
}
