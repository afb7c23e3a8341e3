/**
 * The char LM vocabulary: `'\n'` (id 0, also the start token) and printable ASCII 32..126 (ids 1..95).
 * Any other character encodes as a space.
 */
export const CHARLM_VOCAB = 96;
export const CHARLM_BOS = 0;

/** Encodes text to token ids. */
export function encodeChars(text: string): Int32Array {
  const out = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c === 10 ? 0 : c >= 32 && c <= 126 ? c - 31 : 1;
  }
  return out;
}

/** Decodes token ids to text. */
export function decodeChars(ids: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) s += decodeChar(ids[i]!);
  return s;
}

/** Decodes one token id. */
export function decodeChar(id: number): string {
  return id === 0 ? '\n' : String.fromCharCode(id + 31);
}

/** Splits the corpus into fixed blocks; every 10th block is held out for evaluation. */
export function splitCorpus(text: string, blockChars = 512): { train: string; heldOut: string[] } {
  const train: string[] = [];
  const heldOut: string[] = [];
  for (let i = 0, b = 0; i < text.length; i += blockChars, b++) {
    const block = text.slice(i, i + blockChars);
    if (b % 10 === 9 && block.length === blockChars) heldOut.push(block);
    else train.push(block);
  }
  return { train: train.join(''), heldOut };
}
