package server

import (
	"mime"
	"net/http"
	"strconv"

	"healthcode"
	"healthcode/exchange"
)

// SubsystemRecord is one record's answer of POST /exchange/v1/records.
type SubsystemRecord struct {
	Line          int    `json:"line"`
	RecordID      string `json:"recordId"`
	Status        string `json:"status"`
	Updated       bool   `json:"updated,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Message       string `json:"message,omitempty"`
	UnifiedColour string `json:"unifiedColour,omitempty"`
	Deviation     string `json:"deviation,omitempty"`
	RequestID     string `json:"requestId,omitempty"` // PENDING_APPROVAL: the colour change request (an ID, as in GraphQL)
}

// SubsystemAnswer is the JSON answer of POST /exchange/v1/records.
type SubsystemAnswer struct {
	Accepted         int               `json:"accepted"`
	Duplicates       int               `json:"duplicates"`
	Rejected         int               `json:"rejected"`
	Pending          int               `json:"pending"`
	DeviationsOpened int               `json:"deviationsOpened"`
	DeviationsClosed int               `json:"deviationsClosed"`
	Records          []SubsystemRecord `json:"records"`
}

// SubsystemPushHandler serves POST /exchange/v1/records: a city sub-system
// pushes records of the unified format as NDJSON (Content-Type
// application/x-ndjson, one record per line, at most
// healthcode.MaxSubsystemBatch) with its API key in "Authorization: Bearer",
// and gets 200 with the per-record answer in line order (a rejected record
// does not fail the push). Errors: 401 UNAUTHENTICATED, 403 FORBIDDEN (not
// an API key), 415 INVALID (content type), 400 INVALID (empty push, too many
// records, a line over exchange.MaxSubsystemLine bytes). The GraphQL mutation
// pushSubsystemRecords does the same.
func SubsystemPushHandler(svc healthcode.SubsystemService) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := healthcode.ActorFromContext(r.Context())
		if a == nil {
			unauthenticated(w)
			return
		}
		if a.Kind != healthcode.ActorMachine {
			writeError(w, http.StatusForbidden, healthcode.EFORBIDDEN, "仅限市级子系统使用 API 密钥推送")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-ndjson" {
			writeError(w, http.StatusUnsupportedMediaType, healthcode.EINVALID, "Content-Type 应为 application/x-ndjson")
			return
		}
		lines, err := exchange.DecodeSubsystemRecords(r.Body, healthcode.MaxSubsystemBatch)
		if err == nil {
			var res *healthcode.SubsystemPushResult
			if res, err = exchange.Push(r.Context(), svc, lines); err == nil {
				writeJSON(w, http.StatusOK, answer(res))
				return
			}
		}
		respondError(w, r, nil, "push sub-system records", err)
	})
}

func answer(res *healthcode.SubsystemPushResult) SubsystemAnswer {
	out := SubsystemAnswer{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: res.Rejected, Pending: res.Pending,
		DeviationsOpened: res.DeviationsOpened, DeviationsClosed: res.DeviationsClosed,
		Records: make([]SubsystemRecord, len(res.Records))}
	for i, r := range res.Records {
		out.Records[i] = SubsystemRecord{Line: r.Line, RecordID: r.RecordID, Status: r.Status, Updated: r.Updated,
			Reason: r.Reason, Message: r.Message, UnifiedColour: string(r.UnifiedColour), Deviation: r.Deviation,
			RequestID: requestID(r.RequestID)}
	}
	return out
}

func requestID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
