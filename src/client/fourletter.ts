import net from 'node:net';

/**
 * Sends a four-letter word (ruok, srvr, mntr, ...) and resolves with everything the server writes
 * before it closes the connection; rejects when the server cannot be reached or says nothing
 * within `timeoutMs`. What `zkServer.sh status` does with FourLetterWordMain.
 */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port }, () => socket.end(word));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${word} to ${host}:${port}: no answer within ${timeoutMs} ms`)));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
