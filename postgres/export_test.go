package postgres

// SetScanCopyHook runs f between the look-up of a batch's existing scan ids
// and the COPY of its new ones (nil: nothing).
func SetScanCopyHook(f func()) { testHookBeforeScanCopy = f }
