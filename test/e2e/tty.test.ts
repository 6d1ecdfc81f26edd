// The terminal experience as a person sees it: `kubectl pvmove` started in a real terminal (a tmux
// session of a fixed size, no flags about output: on a TTY the listr2 tree is the default), the
// screen read with capture-pane while the claim is being copied and once the move is done, and
// compared with what the plain and json outputs say for the same move of another claim.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  sleep,
} from '../helpers/cluster.js';
import { cliCommand, explain, runCli } from '../helpers/cli.js';
import { createClaim, runPod, shellPod, waitForClaimBound } from '../helpers/workloads.js';

const COLUMNS = 100;
const ROWS = 40;
// "12.0 MiB of 1.0 GiB (1%), 40.1 MiB/s, ETA 20s": the copy step's progress, as the core words it.
const PROGRESS = /\d+(\.\d+)? [KMGT]?i?B of \d+(\.\d+)? [KMGT]?i?B \(\d+%\)/;

describe('the listr2 tree in a real terminal (tmux), against the plain and json outputs', function () {
  let c: Cluster;
  let ns: string;
  let work: string;
  const socket = `pvmove-tty-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const screen = () => tmux('capture-pane', '-p', '-t', 'pv');

  before(async function () {
    this.timeout(600_000);
    expect(process.env.KUBECONFIG, 'KUBECONFIG of the test bed').to.be.a('string');
    expect(spawnSync('tmux', ['-V']).status, 'tmux is installed').to.equal(0);
    c = connect();
    work = mkdtempSync(path.join(tmpdir(), 'pvmove-tty-'));
    ns = await createNamespace(c, 'e2e-tty');
    // big: 900 MB, so that the copy lasts a few seconds (the screen is read mid-copy), in files
    // below the size the copy pod hands to cp (64 MiB): cp copies a file at once within one file
    // system, and six files of 150 MB were copied before a screen showed more than 0%;
    // small-plain, small-json: the same move with the other outputs.
    for (const [claim, script] of [
      [
        'big',
        'for i in $(seq 1 18); do head -c 50000000 /dev/urandom > /data/part$i; done; echo hi > /data/f',
      ],
      ['small-plain', 'head -c 2000000 /dev/urandom > /data/blob; echo hi > /data/f'],
      ['small-json', 'head -c 2000000 /dev/urandom > /data/blob; echo hi > /data/f'],
    ] as const) {
      await createClaim(c, ns, claim, { storageClassName: 'standard', size: '1Gi' });
      await runPod(c, ns, shellPod(`seed-${claim}`, claim, script));
      await c.core.deleteNamespacedPod({ name: `seed-${claim}`, namespace: ns, gracePeriodSeconds: 0 });
      await waitForClaimBound(c, ns, claim);
    }
  });

  after(async function () {
    this.timeout(300_000);
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    if (ns) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows the steps as a tree with the bytes copied while copying, and every step done at the end', async function () {
    this.timeout(900_000);
    // The command as a person types it (here through a script, so the exit code stays on screen).
    const script = path.join(work, 'move.sh');
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `export KUBECONFIG=${quote(process.env.KUBECONFIG!)} TERM=xterm-256color`,
        'unset NO_COLOR CI',
        `${cliCommand().map(quote).join(' ')} big --to-class fast -n ${ns} --yes`,
        'echo "exit code $?"',
        'sleep 3600',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    tmux('new-session', '-d', '-s', 'pv', '-x', String(COLUMNS), '-y', String(ROWS), script);
    let midCopy: string | undefined;
    let midDistance = Infinity;
    let last = '';
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline) {
      last = screen();
      // A screen of the copy under way: the one nearest half way (short of 100%).
      const percent = Number(/\((\d+)%\)/.exec(last)?.[1] ?? NaN);
      if (PROGRESS.test(last) && percent < 100 && Math.abs(percent - 50) <= midDistance) {
        midCopy = last;
        midDistance = Math.abs(percent - 50);
      }
      if (/exit code \d+/.test(last)) break;
      await sleep(100);
    }
    console.log(`      mid-copy screen (${COLUMNS}x${ROWS}):\n${indent(midCopy ?? '(none)')}`);
    console.log(`      final screen:\n${indent(last)}`);
    expect(last, 'the move ended').to.match(/exit code 0/);
    expect(midCopy, `a screen showing the copy's progress; last screen:\n${last}`).to.be.a('string');
    const mid = midCopy!.split('\n');
    // The tree: a task line for the copy step, its progress below it, the steps before it done.
    // (By its title: the warm pass's step, skipped here, also speaks of copying.)
    const copyLine = mid.findIndex((l) => /^\s*\S+ Copy the data with tar/.test(l));
    expect(copyLine, midCopy).to.be.above(0);
    expect(
      mid.slice(copyLine + 1).some((l) => PROGRESS.test(l)),
      midCopy,
    ).to.equal(true);
    expect(mid.slice(0, copyLine).filter((l) => l.includes('✔')).length, midCopy).to.be.at.least(3);
    expect(
      mid.slice(copyLine + 2).every((l) => !l.includes('✔')),
      'no step after the copy is done yet',
    ).to.equal(true);
    expect(midCopy, 'no raw escape sequences or broken redraws on screen').to.not.match(
      new RegExp(`${String.fromCharCode(27)}|\\[\\d+[A-K]`),
    );
    for (const l of mid) expect(l.length, l).to.be.at.most(COLUMNS);

    // The same move of another claim, in json and plain: the tree showed the same steps, in the
    // same order, with the same progress wording and the same next command.
    const json = await runCli(['small-json', '--to-class', 'fast', '-n', ns, '-o', 'json']);
    expect(json.code, explain(json)).to.equal(0);
    // Each step's last status in the json run, in order: done -> ✔, skipped -> a skip mark.
    const steps = new Map<string, string>();
    for (const e of json.events.filter((e) => e.type === 'step'))
      steps.set(String(e.title), String(e.status));
    expect(steps.size).to.be.above(5);
    const final = last.split('\n');
    let at = -1;
    for (const [title, status] of steps) {
      const i = final.findIndex((l, k) => k > at && l.includes(title));
      expect(i, `step "${title}" on the final screen after line ${at}:\n${last}`).to.be.above(at);
      expect(final[i], `step "${title}" ${status}`).to.match(status === 'done' ? /^✔ / : /^[⚠↓] /);
      at = i;
    }
    const plain = await runCli(['small-plain', '--to-class', 'fast', '-n', ns, '-o', 'plain']);
    expect(plain.code, explain(plain)).to.equal(0);
    expect(plain.stdout).to.match(new RegExp(`progress copy: ${PROGRESS.source}`));
    // The terminal wraps the result line at its width: read it unwrapped.
    expect(last.split('\n').join('')).to.contain(`kubectl pvmove cleanup big -n ${ns}`);
    expect(plain.stdout).to.contain(`kubectl pvmove cleanup small-plain -n ${ns}`);
  });
});

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `        | ${l}`)
    .join('\n');
}
