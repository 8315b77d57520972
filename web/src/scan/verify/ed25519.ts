// Ed25519 signature checks: WebCrypto where the browser has Ed25519
// (Chromium 137+, Firefox 129+, Safari 17+), else @noble/ed25519 (loaded
// only then, in RFC 8032 mode like Go's crypto/ed25519).

export interface Ed25519Backend {
  name: string
  importKey(raw: Uint8Array): Promise<unknown>
  verify(key: unknown, signature: Uint8Array, message: Uint8Array): Promise<boolean>
}

/** A copy in a fresh ArrayBuffer, as WebCrypto's BufferSource typing wants. */
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer

export const webCryptoBackend: Ed25519Backend = {
  name: 'WebCrypto',
  importKey: (raw) => crypto.subtle.importKey('raw', buf(raw), { name: 'Ed25519' }, false, ['verify']),
  verify: (key, sig, msg) => crypto.subtle.verify({ name: 'Ed25519' }, key as CryptoKey, buf(sig), buf(msg)),
}

export async function nobleBackend(): Promise<Ed25519Backend> {
  const ed = await import('@noble/ed25519')
  return {
    name: 'noble',
    importKey: async (raw) => raw,
    verify: async (key, sig, msg) => {
      try {
        return await ed.verifyAsync(sig, msg, key as Uint8Array, { zip215: false })
      } catch {
        return false
      }
    },
  }
}

let chosen: Promise<Ed25519Backend> | null = null

/** Whether WebCrypto verifies Ed25519 here: it imports a key and checks RFC 8032's first test vector. */
async function webCryptoWorks(): Promise<boolean> {
  try {
    if (!globalThis.crypto?.subtle) return false
    const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)))
    const key = await webCryptoBackend.importKey(hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))
    const sig = hex(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
    return await webCryptoBackend.verify(key, sig, new Uint8Array(0))
  } catch {
    return false
  }
}

/** The backend this browser uses, chosen once. */
export function ed25519Backend(): Promise<Ed25519Backend> {
  chosen ??= webCryptoWorks().then((ok) => (ok ? webCryptoBackend : nobleBackend()))
  return chosen
}
