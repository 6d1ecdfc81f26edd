// Checks the embedded code signature of a thin 64-bit Mach-O binary the way macOS checks an ad hoc
// one, without a Mac: the LC_CODE_SIGNATURE superblob's CodeDirectory must cover the whole file up
// to the signature (codeLimit), each page's sha256 must equal the CodeDirectory's hash of that page,
// each special slot (requirements, entitlements) must hash the blob present in the superblob (or be
// zero when there is none), and the CodeDirectory must be ad hoc with the expected identifier.
// (`rcodesign verify` rejects every ad hoc signature: it expects a CMS signature to verify.)
//
//   node scripts/binary/verify-macho.mjs FILE [--identifier ID] [--cpu x86_64|arm64]
// Prints one line and exits 0 when valid; prints why and exits 1 otherwise.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { parseArgs } from 'node:util';

const CPU = { x86_64: 0x01000007, arm64: 0x0100000c };
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;

export function verifyMachO(bytes, { identifier, cpu } = {}) {
  if (bytes.readUInt32LE(0) !== 0xfeedfacf) throw new Error('not a thin 64-bit Mach-O (magic)');
  const cputype = bytes.readUInt32LE(4);
  if (cpu && cputype !== CPU[cpu]) throw new Error(`CPU type 0x${cputype.toString(16)}, not ${cpu}`);
  const ncmds = bytes.readUInt32LE(16);
  let at = 32;
  let sig;
  for (let i = 0; i < ncmds; i++) {
    const cmd = bytes.readUInt32LE(at);
    if (cmd === LC_CODE_SIGNATURE)
      sig = { off: bytes.readUInt32LE(at + 8), size: bytes.readUInt32LE(at + 12) };
    at += bytes.readUInt32LE(at + 4);
  }
  if (!sig) throw new Error('no LC_CODE_SIGNATURE: the binary is not signed');
  if (sig.off + sig.size > bytes.length) throw new Error('the signature lies beyond the end of the file');
  const blob = bytes.subarray(sig.off, sig.off + sig.size);
  if (blob.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('no embedded signature superblob');
  const blobs = new Map();
  for (let i = 0, n = blob.readUInt32BE(8); i < n; i++) {
    const type = blob.readUInt32BE(12 + i * 8);
    const offset = blob.readUInt32BE(16 + i * 8);
    blobs.set(type, blob.subarray(offset, offset + blob.readUInt32BE(offset + 4)));
  }
  const cd = blobs.get(0);
  if (!cd || cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) throw new Error('no CodeDirectory');
  const flags = cd.readUInt32BE(12);
  const hashOffset = cd.readUInt32BE(16);
  const ident = cd.subarray(cd.readUInt32BE(20), cd.indexOf(0, cd.readUInt32BE(20))).toString('utf8');
  const nSpecial = cd.readUInt32BE(24);
  const nCode = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const hashSize = cd.readUInt8(36);
  const hashType = cd.readUInt8(37);
  const pageSize = 2 ** cd.readUInt8(39);
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32)
    throw new Error(`hash type ${hashType}, not sha256`);
  if (!(flags & CS_ADHOC)) throw new Error(`flags 0x${flags.toString(16)}: not ad hoc`);
  if (identifier && ident !== identifier) throw new Error(`identifier ${ident}, not ${identifier}`);
  if (codeLimit !== sig.off)
    throw new Error(`codeLimit ${codeLimit} does not reach the signature at ${sig.off}`);
  if (nCode !== Math.ceil(codeLimit / pageSize))
    throw new Error(`${nCode} page hashes for ${codeLimit} bytes`);
  const sha256 = (b) => createHash('sha256').update(b).digest();
  for (let i = 0; i < nCode; i++) {
    const page = bytes.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    const want = cd.subarray(hashOffset + i * hashSize, hashOffset + (i + 1) * hashSize);
    if (!sha256(page).equals(want))
      throw new Error(`page ${i} (offset ${i * pageSize}) does not match its hash`);
  }
  for (let slot = 1; slot <= nSpecial; slot++) {
    const want = cd.subarray(hashOffset - slot * hashSize, hashOffset - (slot - 1) * hashSize);
    const special = blobs.get(slot);
    const ok = special ? sha256(special).equals(want) : want.every((b) => b === 0);
    if (!ok) throw new Error(`special slot ${slot} does not match`);
  }
  return { identifier: ident, pages: nCode, pageSize, cdhash: sha256(cd).subarray(0, 20).toString('hex') };
}

if (process.argv[1] === import.meta.filename) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { identifier: { type: 'string' }, cpu: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: verify-macho.mjs FILE [--identifier ID] [--cpu x86_64|arm64]\n');
    process.exit(2);
  }
  try {
    const r = verifyMachO(readFileSync(file), values);
    process.stdout.write(
      `${file}: valid ad hoc signature, identifier ${r.identifier}, ${r.pages} pages of ${r.pageSize} bytes, cdhash ${r.cdhash}\n`,
    );
  } catch (err) {
    process.stdout.write(`${file}: invalid code signature: ${err.message}\n`);
    process.exit(1);
  }
}
