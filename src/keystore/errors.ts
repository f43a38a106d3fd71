/** A key or trust store that cannot be used: malformed, wrong password, or an unsupported algorithm. */
export class KeyStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyStoreError';
  }
}
