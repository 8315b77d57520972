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
			RequestID: idString(r.RequestID)}
	}
	return out
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// MedicalEventRecord is one record's answer of POST /exchange/v1/medical-events.
type MedicalEventRecord struct {
	Line     int    `json:"line"`
	RecordID string `json:"recordId"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	EventID  string `json:"eventId,omitempty"`
	Colour   string `json:"colour,omitempty"`
}

// MedicalEventsAnswer is the JSON answer of POST /exchange/v1/medical-events.
type MedicalEventsAnswer struct {
	Accepted   int                  `json:"accepted"`
	Duplicates int                  `json:"duplicates"`
	Rejected   int                  `json:"rejected"`
	Records    []MedicalEventRecord `json:"records"`
}

// MedicalEventsHandler serves POST /exchange/v1/medical-events: a medical
// institution's machine client (an approved MEDICAL_CLIENT API key in
// "Authorization: Bearer") records medical events as a JSON array
// (application/json) or NDJSON (application/x-ndjson), at most
// healthcode.MaxMedicalEventBatch records, and gets 200 with the per-record
// answer in order. Errors: 401 UNAUTHENTICATED (no key, unknown, revoked or
// not yet approved), 403 FORBIDDEN (not a machine client key, or the
// institution is not ACTIVE), 415 INVALID (content type), 400 INVALID (not
// an array, no record, too many, a record over
// exchange.MaxMedicalEventLine bytes).
func MedicalEventsHandler(svc healthcode.MachineClientService) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := healthcode.ActorFromContext(r.Context())
		if a == nil {
			unauthenticated(w)
			return
		}
		if a.Kind != healthcode.ActorMachine || a.InstitutionID == 0 {
			writeError(w, http.StatusForbidden, healthcode.EFORBIDDEN, "仅限医疗机构的接口密钥上报医学状态")
			return
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && mt != "application/x-ndjson") {
			writeError(w, http.StatusUnsupportedMediaType, healthcode.EINVALID, "Content-Type 应为 application/json 或 application/x-ndjson")
			return
		}
		records, err := exchange.DecodeMedicalEvents(r.Body, mt == "application/x-ndjson")
		if err == nil {
			var res *healthcode.MedicalEventPushResult
			if res, err = svc.RecordMedicalEvents(r.Context(), records); err == nil {
				out := MedicalEventsAnswer{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: res.Rejected,
					Records: make([]MedicalEventRecord, len(res.Records))}
				for i, rec := range res.Records {
					out.Records[i] = MedicalEventRecord{Line: rec.Line, RecordID: rec.RecordID, Status: rec.Status,
						Reason: rec.Reason, Message: rec.Message, EventID: idString(rec.EventID), Colour: string(rec.Colour)}
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		respondError(w, r, nil, "record medical events", err)
	})
}
