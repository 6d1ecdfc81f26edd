// `kubectl pvmove completion bash|zsh`: prints a shell script that completes `kubectl-pvmove`.
// Both scripts ask the binary itself (`kubectl-pvmove __complete WORDS... CURRENT`, the protocol
// of cobra, which kubectl also uses for plugins through `kubectl_complete-pvmove`).
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../render/types.js';

export interface CompletionArgv {
  shell: 'bash' | 'zsh';
}

export const SHELLS = ['bash', 'zsh'] as const;

export function runCompletion(argv: CompletionArgv, io: Io): Promise<void> {
  io.stdout.write(argv.shell === 'zsh' ? ZSH : BASH);
  return Promise.resolve();
}

export const completionCommand: CommandModule<object, CompletionArgv> = {
  command: 'completion <shell>',
  describe: 'Print a shell completion script (bash or zsh)',
  builder: (y: Argv) =>
    y
      .positional('shell', { choices: SHELLS, describe: 'Shell to complete in' })
      .example('source <($0 completion bash)', 'Complete kubectl-pvmove in this bash session')
      .example(
        '$0 completion zsh > "${fpath[1]}/_kubectl-pvmove"',
        'Install zsh completion (start a new shell)',
      ) as unknown as Argv<CompletionArgv>,
  handler: () => undefined, // replaced in app.ts, which owns the Io
};

const KUBECTL_HINT = `# \`kubectl pvmove <TAB>\` (kubectl >= 1.26 completes a plugin through kubectl_complete-<name>):
#   printf '#!/bin/sh\\nexec kubectl-pvmove __complete "$@"\\n' >~/.local/bin/kubectl_complete-pvmove
#   chmod +x ~/.local/bin/kubectl_complete-pvmove       (any directory on PATH)
`;

const BASH = `# bash completion for kubectl-pvmove. Load it with
#   source <(kubectl pvmove completion bash)
# or save it as /etc/bash_completion.d/kubectl-pvmove.
${KUBECTL_HINT}_kubectl_pvmove() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out directive
  out=$(kubectl-pvmove __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return 0
  directive=\${out##*:}
  out=\${out%:*}
  COMPREPLY=()
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && COMPREPLY+=("\${line%%$'\\t'*}")
  done <<<"$out"
  # cobra directive 4: no file completion when nothing matched.
  if [ \${#COMPREPLY[@]} -eq 0 ] && (( (directive & 4) != 0 )); then compopt +o default 2>/dev/null; fi
  return 0
}
complete -o default -F _kubectl_pvmove kubectl-pvmove
`;

const ZSH = `#compdef kubectl-pvmove
# zsh completion for kubectl-pvmove. Load it with
#   source <(kubectl pvmove completion zsh)
# or save it as _kubectl-pvmove in a directory of $fpath.
${KUBECTL_HINT}_kubectl_pvmove() {
  local out directive line
  local -a lines described
  out=$(kubectl-pvmove __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  for line in "\${(@)lines[1,-2]}"; do
    [[ -z $line ]] && continue
    if [[ $line == *$'\\t'* ]]; then
      described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      described+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#described} )); then
    _describe 'kubectl-pvmove' described
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _kubectl_pvmove "$@"
else
  compdef _kubectl_pvmove kubectl-pvmove
fi
`;
