// QR decoding from the camera: the browser's BarcodeDetector where it reads
// QR codes (Android Chrome, macOS and ChromeOS browsers, Safari 17+), else
// the barcode-detector ponyfill (ZXing compiled to WebAssembly, shipped with
// the app — loaded only then, and cached by the service worker for offline).
export interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>
}

export async function qrDetector(): Promise<{ detector: Detector; native: boolean }> {
  const native = (globalThis as { BarcodeDetector?: { new (o: { formats: string[] }): Detector; getSupportedFormats(): Promise<string[]> } }).BarcodeDetector
  if (native && (await native.getSupportedFormats().catch(() => [] as string[])).includes('qr_code')) {
    return { detector: new native({ formats: ['qr_code'] }), native: true }
  }
  const [{ BarcodeDetector, setZXingModuleOverrides }, { default: wasmUrl }] = await Promise.all([
    import('barcode-detector/ponyfill'),
    import('zxing-wasm/reader/zxing_reader.wasm?url'),
  ])
  setZXingModuleOverrides({ locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) })
  return { detector: new BarcodeDetector({ formats: ['qr_code'] }) as Detector, native: false }
}
