import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { MEASURE_AWK } from '../../src/engines/tar/script.js';
import { RequestTally, resourceOf } from '../../src/kube/request-counter.js';

describe('API request counter', () => {
  it('names the resource and subresource of a request', () => {
    expect(resourceOf('https://h:6443/api/v1/namespaces/a/pods/p/log?tailLines=40')).to.equal('pods/log');
    expect(resourceOf('https://h/api/v1/namespaces/a/pods')).to.equal('pods');
    expect(resourceOf('https://h/api/v1/persistentvolumes/pv-1')).to.equal('persistentvolumes');
    expect(resourceOf('https://h/apis/apps/v1/namespaces/a/statefulsets/db/scale')).to.equal(
      'statefulsets/scale',
    );
  });

  it('sums up by method and resource, most frequent first', () => {
    const t = new RequestTally();
    t.add('GET', 'https://h/api/v1/namespaces/a/pods/p');
    t.add('GET', 'https://h/api/v1/namespaces/a/pods/q');
    t.add('PATCH', 'https://h/api/v1/persistentvolumes/x');
    expect(t.summary()).to.equal('api-requests total=3 GET/pods=2 PATCH/persistentvolumes=1');
  });
});

describe('copy measurement (awk)', () => {
  it('counts a sparse file by its allocated blocks, extra links once, and 3 header blocks per entry', () => {
    const lines = [
      'd 4096 8 2 1', // a directory
      'f 1000 8 1 2', // 1000 bytes, 4 KiB allocated
      'f 104857600 8192 1 3', // 100 MiB sparse file with 4 MiB allocated
      'f 2000 8 2 4', // a file with two links...
      'f 2000 8 2 4', // ...the second one is a header in the archive
      'l 9 0 1 5', // a symlink
    ].join('\n');
    const out = execFileSync('awk', [MEASURE_AWK], { input: `${lines}\n`, encoding: 'utf8' });
    const [entries, data, used, blocks] = out.trim().split(' ').map(Number);
    expect(entries).to.equal(6);
    expect(data).to.equal(1000 + 4 * 1024 * 1024 + 2000);
    expect(used).to.equal(4096 + 4096 + 4 * 1024 * 1024 + 4096);
    expect(blocks).to.equal(3 + (3 + 2) + (3 + 8192) + (3 + 4) + 3 + 3);
  });
});
