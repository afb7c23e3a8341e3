/**
 * Recognise "the market's TLS certificate is not trusted" in an error (or its causes) and say how to fix it:
 * a testnet market (`infermarket market --tls`) serves a self-signed certificate that only a client given
 * that certificate accepts.
 */

/** OpenSSL/Node codes for a certificate chain the client does not trust. */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const UNTRUSTED_TEXT = /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|does not match certificate's altnames/i;

/** The advice printed with an untrusted-certificate error. */
export const CA_HINT =
  'the market\'s TLS certificate is not trusted: pass --ca FILE with the market\'s certificate (the `ca` path in ' +
  '`infermarket market --tls`\'s listening line, or <out>/market.cert.pem of a TLS testnet; the SDK option is `ca`)';

/**
 * @returns the reason (e.g. `self-signed certificate`) when `err` or one of its causes is an untrusted
 * certificate, else `null`.
 */
export function untrustedCertificateReason(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e === 'string') return UNTRUSTED_TEXT.test(e) ? e : null;
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && UNTRUSTED_CODES.has(code)) return typeof message === 'string' ? message : code;
    if (typeof message === 'string' && UNTRUSTED_TEXT.test(message)) return message;
    e = cause;
  }
  return null;
}
