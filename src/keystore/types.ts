/** What a key or trust store holds, whatever its format. */
export interface StoreKey {
  alias?: string;
  /** The private key as an unencrypted PKCS#8 PrivateKeyInfo (DER). */
  pkcs8: Buffer;
  /** Its certificate chain, leaf first (DER), when the format stores it with the key (JKS). */
  chain: Buffer[];
}

export interface StoreCertificate {
  alias?: string;
  der: Buffer;
  /** A trusted-certificate entry (keytool -importcert), as opposed to a chain certificate. */
  trusted: boolean;
}

export interface StoreContents {
  keys: StoreKey[];
  certificates: StoreCertificate[];
}
