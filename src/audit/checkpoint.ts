// Signed checkpoints: the C2SP tlog-checkpoint body inside a C2SP signed-note with Ed25519.
//
//   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n...]
//   \n
//   — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>\n
//
// Key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. Public keys travel as
// "vkey" strings: <name>+<hex key id>+<base64(0x01 || public key)>.
//
// Parsing is strict: anything that is not exactly the format is refused, a failed signature by a
// known key rejects the whole note, and a note with no verified signature by a trusted key is
// refused. Signatures by unknown keys (e.g. witness cosignatures) are ignored as the spec requires.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { HASH_SIZE, isTreeSize } from './merkle.js';

export const SIG_TYPE_ED25519 = 0x01;
/** Upper bounds a verifier applies (the spec requires accepting at least 16 signatures). */
export const MAX_NOTE_BYTES = 1 << 20;
export const MAX_NOTE_SIGNATURES = 100;

const EM_DASH_PREFIX = '\u2014 ';

export type NoteErrorCode =
  | 'malformed_note'
  | 'malformed_signature'
  | 'no_trusted_signature'
  | 'bad_signature'
  | 'duplicate_signature'
  | 'malformed_checkpoint'
  | 'origin_mismatch'
  | 'bad_key';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

// ---------- small strict helpers ----------

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, and only the one canonical spelling of each byte string. */
function strictBase64(s: string): Buffer | undefined {
  if (!B64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

// Unicode spaces (Go's unicode.IsSpace plus category Z), which key names must not contain.
const SPACE = /[\s\u0085\p{Z}]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// ASCII control characters other than newline.
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && !SPACE.test(name) && !name.includes('+') && !LONE_SURROGATE.test(name) && !CONTROL.test(name);
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new NoteError('bad_key', 'key name must be non-empty without spaces or "+"');
}

function rawEd25519Public(key: KeyObject | Uint8Array): Buffer {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new NoteError('bad_key', 'Ed25519 public key must be 32 bytes');
    return Buffer.from(key);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new NoteError('bad_key', 'key must be Ed25519');
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  } catch {
    throw new NoteError('bad_key', 'not a valid Ed25519 public key');
  }
}

// ---------- keys ----------

/** Key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function computeKeyId(name: string, publicKey: KeyObject | Uint8Array): Buffer {
  assertKeyName(name);
  const raw = rawEd25519Public(publicKey);
  return createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Buffer.from([0x0a, SIG_TYPE_ED25519]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

export type NoteSigner = {
  readonly name: string;
  readonly keyId: Buffer;
  sign(text: Uint8Array): Buffer;
};

export type NoteVerifier = {
  readonly name: string;
  readonly keyId: Buffer;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
};

export function createNoteSigner(deps: { name: string; privateKey: KeyObject }): NoteSigner {
  assertKeyName(deps.name);
  const { privateKey } = deps;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new NoteError('bad_key', 'signer needs an Ed25519 private key');
  }
  const keyId = computeKeyId(deps.name, privateKey);
  return {
    name: deps.name,
    keyId,
    sign: (text) => edSign(null, text, privateKey),
  };
}

export function createNoteVerifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  assertKeyName(name);
  const raw = rawEd25519Public(publicKey);
  const keyObject = publicKeyObject(raw);
  return {
    name,
    keyId: computeKeyId(name, raw),
    publicKey: raw,
    verify: (text, signature) => signature.length === 64 && edVerify(null, text, keyObject, signature),
  };
}

/** Verifier key text: <name>+<hex key id>+<base64(0x01 || public key)>. */
export function formatVerifierKey(name: string, publicKey: KeyObject | Uint8Array): string {
  const raw = rawEd25519Public(publicKey);
  const id = computeKeyId(name, raw).toString('hex');
  return `${name}+${id}+${Buffer.concat([Buffer.from([SIG_TYPE_ED25519]), raw]).toString('base64')}`;
}

/** Parses a vkey string, checking that the key ID in it is the one computed from name and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  if (typeof vkey !== 'string') throw new NoteError('bad_key', 'vkey must be a string');
  const parts = vkey.split('+');
  // The base64 alphabet contains "+", so split name and id off the front only.
  if (parts.length < 3) throw new NoteError('bad_key', 'vkey must be name+keyid+key');
  const name = parts[0]!;
  const idHex = parts[1]!;
  const keyB64 = parts.slice(2).join('+');
  assertKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('bad_key', 'vkey key id must be 8 lowercase hex digits');
  const key = strictBase64(keyB64);
  if (!key || key.length !== 33 || key[0] !== SIG_TYPE_ED25519) {
    throw new NoteError('bad_key', 'vkey key must be base64(0x01 || 32-byte Ed25519 key)');
  }
  const verifier = createNoteVerifier(name, key.subarray(1));
  if (verifier.keyId.toString('hex') !== idHex) throw new NoteError('bad_key', 'vkey key id does not match name and key');
  return verifier;
}

/** A fresh Ed25519 key for signing checkpoints (the caller seals and stores the private key). */
export function generateNoteKey(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKey,
    signer: createNoteSigner({ name, privateKey }),
    verifier: createNoteVerifier(name, publicKey),
    vkey: formatVerifierKey(name, publicKey),
  };
}

/** Re-creates an Ed25519 private key object from its PKCS#8 DER bytes (e.g. after unsealing). */
export function privateKeyFromPkcs8(der: Uint8Array): KeyObject {
  const k = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  if (k.asymmetricKeyType !== 'ed25519') throw new NoteError('bad_key', 'key must be Ed25519');
  return k;
}

// ---------- notes ----------

export type NoteSignature = {
  name: string;
  /** Key ID as 4 bytes (big-endian uint32). */
  keyId: Buffer;
  signature: Buffer;
};

export type ParsedNote = {
  /** The signed text, ending in a newline, without the separating blank line. */
  text: string;
  signatures: NoteSignature[];
};

function checkNoteChars(s: string, code: NoteErrorCode): void {
  if (LONE_SURROGATE.test(s)) throw new NoteError(code, 'note must be valid UTF-8');
  if (CONTROL.test(s)) throw new NoteError(code, 'note must not contain control characters other than newline');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function noteString(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  if (!(note instanceof Uint8Array)) throw new NoteError('malformed_note', 'note must be text');
  try {
    return utf8.decode(note);
  } catch {
    throw new NoteError('malformed_note', 'note must be valid UTF-8');
  }
}

function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw new NoteError('malformed_note', 'note text must end with a newline');
  checkNoteChars(text, 'malformed_note');
}

/** Splits a signed note into text and signature lines. Syntax only: nothing is verified here. */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const s = noteString(note);
  if (Buffer.byteLength(s, 'utf8') > MAX_NOTE_BYTES) throw new NoteError('malformed_note', 'note too large');
  checkNoteChars(s, 'malformed_note');
  if (!s.endsWith('\n')) throw new NoteError('malformed_note', 'note must end with a newline');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed_note', 'note has no blank line before its signatures');
  const text = s.slice(0, split + 1);
  const sigBlock = s.slice(split + 2);
  if (sigBlock.length === 0) throw new NoteError('malformed_note', 'note has no signatures');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new NoteError('malformed_note', 'too many signatures');
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH_PREFIX)) throw new NoteError('malformed_signature', 'signature line must start with "— "');
    const rest = line.slice(EM_DASH_PREFIX.length);
    const sp = rest.indexOf(' ');
    if (sp <= 0) throw new NoteError('malformed_signature', 'signature line must be "— <name> <base64>"');
    const name = rest.slice(0, sp);
    if (!isValidKeyName(name)) throw new NoteError('malformed_signature', 'invalid key name in signature line');
    const raw = strictBase64(rest.slice(sp + 1));
    if (!raw || raw.length < 5) throw new NoteError('malformed_signature', 'signature must be base64 of key id and signature');
    return { name, keyId: Buffer.from(raw.subarray(0, 4)), signature: Buffer.from(raw.subarray(4)) };
  });
  return { text, signatures };
}

/** Signs text (ending in a newline) with each signer, producing the signed note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0) throw new NoteError('malformed_note', 'at least one signer is required');
  const msg = Buffer.from(text, 'utf8');
  let out = `${text}\n`;
  for (const s of signers) {
    const sig = s.sign(msg);
    out += `${EM_DASH_PREFIX}${s.name} ${Buffer.concat([s.keyId, sig]).toString('base64')}\n`;
  }
  return out;
}

export type OpenedNote = ParsedNote & {
  /** Signatures from trusted keys, all verified. */
  verified: NoteSignature[];
};

/**
 * Parses and verifies a note: at least one signature by a trusted key must verify; a signature
 * that matches a trusted key's name and ID but fails, or repeats, rejects the whole note.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const parsed = parseNote(note);
  checkText(parsed.text);
  const msg = Buffer.from(parsed.text, 'utf8');
  const verified: NoteSignature[] = [];
  const seen = new Set<NoteVerifier>();
  for (const sig of parsed.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId.equals(sig.keyId));
    if (!v) continue; // unknown key (other name, or same name with another ID): ignored
    if (seen.has(v)) throw new NoteError('duplicate_signature', `two signatures by ${v.name}`);
    seen.add(v);
    if (!v.verify(msg, sig.signature)) throw new NoteError('bad_signature', `signature by ${v.name} does not verify`);
    verified.push(sig);
  }
  if (verified.length === 0) throw new NoteError('no_trusted_signature', 'note is not signed by a trusted key');
  return { ...parsed, verified };
}

// ---------- checkpoints ----------

export type Checkpoint = {
  origin: string;
  /** Tree size (number of leaves). */
  size: number;
  /** RFC 9162 root hash at that size (32 bytes). */
  rootHash: Buffer;
  /** Optional non-empty extension lines (opaque; not recommended by the spec). */
  extensions: string[];
};

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** The checkpoint note text (body), ending in a newline. */
export function formatCheckpoint(cp: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] }): string {
  if (typeof cp.origin !== 'string' || cp.origin.length === 0 || cp.origin.includes('\n')) {
    throw new NoteError('malformed_checkpoint', 'origin must be a non-empty line');
  }
  if (!isTreeSize(cp.size)) throw new NoteError('malformed_checkpoint', 'size must be a non-negative safe integer');
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== HASH_SIZE) {
    throw new NoteError('malformed_checkpoint', 'root hash must be 32 bytes');
  }
  const ext = cp.extensions ?? [];
  for (const e of ext) {
    if (typeof e !== 'string' || e.length === 0 || e.includes('\n')) throw new NoteError('malformed_checkpoint', 'extension lines must be non-empty lines');
  }
  const text = [cp.origin, String(cp.size), Buffer.from(cp.rootHash).toString('base64'), ...ext].join('\n') + '\n';
  checkNoteChars(text, 'malformed_checkpoint');
  return text;
}

/** Parses a checkpoint note text (the part that is signed). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new NoteError('malformed_checkpoint', 'checkpoint must end with a newline');
  checkNoteChars(text, 'malformed_checkpoint');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('malformed_checkpoint', 'checkpoint needs origin, size and root hash lines');
  if (lines.some((l) => l.length === 0)) throw new NoteError('malformed_checkpoint', 'checkpoint lines must be non-empty');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!DECIMAL.test(sizeText)) throw new NoteError('malformed_checkpoint', 'tree size must be decimal without leading zeroes');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new NoteError('malformed_checkpoint', 'tree size too large');
  const rootHash = strictBase64(rootText);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw new NoteError('malformed_checkpoint', 'root hash must be base64 of 32 bytes');
  return { origin, size, rootHash, extensions };
}

export function signCheckpoint(
  cp: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] },
  signers: NoteSigner | readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(cp), Array.isArray(signers) ? signers : [signers as NoteSigner]);
}

export type OpenedCheckpoint = Checkpoint & {
  /** The whole signed note, as given. */
  note: string;
  /** The signed text. */
  text: string;
};

/**
 * Verifies a signed checkpoint and returns its contents. The origin must equal `origin`
 * (default: the first verifier's key name, as the spec recommends they match).
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  options: { origin?: string } = {},
): OpenedCheckpoint {
  const list: readonly NoteVerifier[] = Array.isArray(verifiers) ? verifiers : [verifiers as NoteVerifier];
  const opened = openNote(note, list);
  const cp = parseCheckpoint(opened.text);
  const origin = options.origin ?? list[0]?.name;
  if (cp.origin !== origin) throw new NoteError('origin_mismatch', `checkpoint origin "${cp.origin}" is not "${origin}"`);
  return { ...cp, note: noteString(note), text: opened.text };
}
