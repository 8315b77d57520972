package server

import (
	"net/http"

	"healthcode"
)

// ScanUploadHandler serves POST /api/scans: an offline scanner uploads its
// queued scans as NDJSON (one scan per line, at most 1,000), authenticated
// as an inspector with a bearer token, and gets the per-scan results as a
// JSON array, in order. The GraphQL mutation recordScans does the same.
func ScanUploadHandler(svc healthcode.ScanService) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scans, err := ParseScanBatch(r.Body, 1000)
		if err != nil {
			respondError(w, r, nil, "parse scans", err)
			return
		}
		res, err := svc.RecordScans(r.Context(), scans)
		if err != nil {
			respondError(w, r, nil, "record scans", err)
			return
		}
		out := make([]map[string]any, len(res))
		for i, sr := range res {
			out[i] = map[string]any{"scanId": sr.ScanID, "status": sr.Status, "reason": sr.Reason, "message": sr.Message,
				"colour": sr.Colour, "maskedName": sr.MaskedName, "fever": sr.Fever}
		}
		writeJSON(w, http.StatusOK, out)
	})
}
