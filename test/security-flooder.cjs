// A raw junk flooder for test/security-attacks.test.ts, run as its own process (a real attacker): its own
// ed25519 key (node:crypto), its own canonical login body, then junk as fast as the socket drains.
// Prints one JSON line when it is closed: { code, sent, frames }.
const { generateKeyPairSync, sign } = require('node:crypto');
const WebSocket = require('ws');
const [, , wsUrl] = process.argv;
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const signer = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex');
const ws = new WebSocket(wsUrl);
const frames = [];
let sent = 0;
const junk = ['{', '[]', '{"type":"job.bid"}', JSON.stringify({ type: 'node.register', envelope: { type: 'x' } }), JSON.stringify({ type: 'job.result', output: { kind: 'tokens' } }), 'x'.repeat(10000)];
ws.on('message', (d) => {
  const f = JSON.parse(String(d));
  frames.push({ type: f.type, code: f.code });
  if (f.type === 'auth.challenge') {
    const body = `{"challenge":${JSON.stringify(f.challenge)},"expiresAtMs":${Date.now() + 30000},"nonce":"flood"}`;
    const sig = sign(null, Buffer.from(`infermarket/v1\nauth.login\n${body}`), privateKey).toString('hex');
    ws.send(JSON.stringify({ type: 'auth.login', envelope: { type: 'auth.login', body: JSON.parse(body), signer, sig } }));
  } else if (f.type === 'auth.ok') {
    process.stdout.write('ready\n');
    const pump = () => {
      while (ws.readyState === ws.OPEN && ws.bufferedAmount < 256 * 1024) ws.send(junk[sent++ % junk.length]);
      if (ws.readyState === ws.OPEN) setImmediate(pump);
    };
    pump();
  }
});
ws.on('close', (code) => {
  process.stdout.write(`${JSON.stringify({ code, sent, frames: frames.slice(0, 50).concat(frames.filter((f) => f.code === 'ERR_RATE_LIMITED' || f.code === 'ERR_INTERNAL')) })}\n`);
  process.exit(0);
});
ws.on('error', () => undefined);
