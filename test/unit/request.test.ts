import { expect } from 'chai';
import {
  completeCleanupRequest,
  completeRollbackRequest,
  completeMoveRequest,
  parseNodeSelector,
  parseToleration,
} from '../../src/cli/request.js';
import { UsageError } from '../../src/core/errors.js';
import { DEFAULT_IMAGE, DEFAULT_TIMEOUTS } from '../../src/core/defaults.js';

const ctxNs = () => 'from-context';
const noContext = () => {
  throw new Error('the kubeconfig must not be read for this');
};

describe('argv -> request', () => {
  it('builds a full request with defaults', () => {
    const { request, cli } = completeMoveRequest({ claim: 'data', toClass: 'fast' }, ctxNs);
    expect(request.claim).to.equal('data');
    expect(request.namespace).to.equal('from-context');
    expect(request.toClass).to.equal('fast');
    expect(request).to.not.have.property('size');
    expect(request.verify).to.equal('count');
    expect(request.copy).to.deep.equal({
      image: DEFAULT_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      tolerations: [],
      nodeSelector: {},
    });
    expect(request.timeouts).to.deep.equal(DEFAULT_TIMEOUTS);
    expect(request.commands.resume).to.equal('kubectl pvmove data -n from-context --to-class fast');
    expect(request.commands.cleanup).to.equal('kubectl pvmove cleanup data -n from-context');
    expect(cli).to.deep.equal({
      output: 'auto',
      yes: false,
      dryRun: false,
      kube: { context: undefined, kubeconfig: undefined },
      forceUnlock: false,
    });
  });

  it('passes --force-unlock to the command only: printed commands never repeat it', () => {
    const move = completeMoveRequest({ claim: 'data', toClass: 'fast', forceUnlock: true }, ctxNs);
    expect(move.cli.forceUnlock).to.equal(true);
    expect(move.request.commands.resume).to.equal('kubectl pvmove data -n from-context --to-class fast');
    const rollback = completeRollbackRequest(
      { claim: 'data', namespace: 'shop', forceUnlock: true },
      noContext,
    );
    expect(rollback.cli.forceUnlock).to.equal(true);
    expect(rollback.request.commands.rollback).to.equal('kubectl pvmove rollback data -n shop');
    expect(completeCleanupRequest({ claim: 'data', namespace: 'shop' }, noContext).cli.forceUnlock).to.equal(
      false,
    );
  });

  it('takes -n over the context namespace, and keeps --context/--kubeconfig in printed commands', () => {
    const { request } = completeMoveRequest(
      { claim: 'data', namespace: 'shop', size: '20Gi', context: 'prod', kubeconfig: '/tmp/my config' },
      noContext,
    );
    expect(request.namespace).to.equal('shop');
    expect(request.commands.resume).to.equal(
      "kubectl pvmove data -n shop --size 20Gi --context prod --kubeconfig '/tmp/my config'",
    );
  });

  it('parses copy options and timeouts', () => {
    const { request } = completeMoveRequest(
      {
        claim: 'data',
        toClass: 'fast',
        image: 'registry.local/debian:12',
        imagePullPolicy: 'Never',
        copyToleration: ['storage=slow:NoSchedule', 'dedicated'],
        copyNodeSelector: ['disk=ssd,zone=a', 'rack=r1'],
        verify: 'checksum',
        timeoutCopy: '2h',
        timeoutBind: '90s',
        deletePods: true,
        ignoreHpa: true,
      },
      ctxNs,
    );
    expect(request.copy.tolerations).to.deep.equal([
      { key: 'storage', operator: 'Equal', value: 'slow', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Exists' },
    ]);
    expect(request.copy.nodeSelector).to.deep.equal({ disk: 'ssd', zone: 'a', rack: 'r1' });
    expect(request.copy.image).to.equal('registry.local/debian:12');
    expect(request.verify).to.equal('checksum');
    expect(request.timeouts.copyMs).to.equal(7_200_000);
    expect(request.timeouts.bindMs).to.equal(90_000);
    expect(request.deletePods).to.equal(true);
    expect(request.ignoreHpa).to.equal(true);
    expect(request.commands.resume).to.equal(
      'kubectl pvmove data -n from-context --to-class fast --verify checksum --image registry.local/debian:12 ' +
        '--image-pull-policy Never --copy-toleration storage=slow:NoSchedule --copy-toleration dedicated ' +
        '--copy-node-selector disk=ssd,zone=a --copy-node-selector rack=r1 --delete-pods --ignore-hpa ' +
        '--timeout-bind 90s --timeout-copy 2h',
    );
    expect(request.commands.cleanup).to.equal('kubectl pvmove cleanup data -n from-context');
  });

  const refusals: [string, Parameters<typeof completeMoveRequest>[0], RegExp][] = [
    ['no claim', { toClass: 'fast' }, /name the PersistentVolumeClaim to move/],
    ['no target', { claim: 'data' }, /pass --to-class CLASS, --size SIZE, or both/],
    ['bad size', { claim: 'data', size: '10GB' }, /--size "10GB" is not a size like 10Gi/],
    ['zero size', { claim: 'data', size: '0' }, /--size "0" is not a size/],
    [
      'bad class',
      { claim: 'data', toClass: 'Fast_SSD' },
      /--to-class "Fast_SSD" is not a valid Kubernetes name/,
    ],
    ['bad claim', { claim: 'Data!', toClass: 'fast' }, /claim "Data!" is not a valid Kubernetes name/],
    ['bad namespace', { claim: 'data', toClass: 'fast', namespace: 'a.b' }, /namespace "a.b" is not a valid/],
    [
      'bad verify',
      { claim: 'data', toClass: 'fast', verify: 'md5' },
      /--verify "md5": use one of count, checksum, none/,
    ],
    [
      'bad pull policy',
      { claim: 'data', toClass: 'fast', imagePullPolicy: 'Sometimes' },
      /--image-pull-policy "Sometimes"/,
    ],
    [
      'bad timeout',
      { claim: 'data', toClass: 'fast', timeoutCopy: 'forever' },
      /--timeout-copy "forever" is not a duration/,
    ],
    [
      'bad output',
      { claim: 'data', toClass: 'fast', output: 'yaml' },
      /-o "yaml": use one of auto, tree, plain, json/,
    ],
    [
      'bad toleration',
      { claim: 'data', toClass: 'fast', copyToleration: ['a:Never'] },
      /effect must be one of/,
    ],
    [
      'bad selector',
      { claim: 'data', toClass: 'fast', copyNodeSelector: ['ssd'] },
      /--copy-node-selector "ssd" is not key=value/,
    ],
  ];
  for (const [name, argv, message] of refusals) {
    it(`refuses ${name} with a usage error that says what to do`, () => {
      let caught: unknown;
      try {
        completeMoveRequest(argv, noContext);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(UsageError);
      const e = caught as UsageError;
      expect(e.message).to.match(message);
      expect(e.exitCode).to.equal(2);
      expect(e.message).to.match(/Run `kubectl pvmove --help` for usage\.$/);
      expect(e.message).to.not.include('\n');
    });
  }

  it('parses tolerations in kubectl taint syntax', () => {
    expect(parseToleration('Exists')).to.deep.equal({ operator: 'Exists' });
    expect(parseToleration('k:NoExecute')).to.deep.equal({
      key: 'k',
      operator: 'Exists',
      effect: 'NoExecute',
    });
    expect(parseToleration('k=v')).to.deep.equal({ key: 'k', operator: 'Equal', value: 'v' });
    expect(parseNodeSelector([])).to.deep.equal({});
  });

  it('builds a cleanup request', () => {
    const { request } = completeCleanupRequest({ claim: 'data', namespace: 'shop', yes: true }, noContext);
    expect(request).to.deep.include({ claim: 'data', namespace: 'shop' });
    expect(request.commands.cleanup).to.equal('kubectl pvmove cleanup data -n shop');
    expect(request.timeouts.deleteMs).to.equal(DEFAULT_TIMEOUTS.deleteMs);
  });

  it('builds a rollback request with its own timeouts, never as a dry run', () => {
    const { request, cli } = completeRollbackRequest(
      { claim: 'data', namespace: 'shop', timeoutBind: '30s', timeoutReady: '2m' },
      noContext,
    );
    expect(request).to.deep.include({ claim: 'data', namespace: 'shop' });
    expect(request.timeouts).to.deep.equal({ ...DEFAULT_TIMEOUTS, bindMs: 30_000, readyMs: 120_000 });
    expect(request.commands.cleanup).to.equal('kubectl pvmove cleanup data -n shop');
    expect(cli).to.deep.include({ yes: false, dryRun: false });
    expect(() => completeRollbackRequest({ claim: 'data', timeoutScale: 'soon' }, noContext)).to.throw(
      /--timeout-scale/,
    );
  });
});
