package server

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
	sub := func(a *healthcode.Actor) bool { return a.Kind == healthcode.ActorMachine }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if machineRequest(w, r, sub, "仅限市级子系统使用 API 密钥推送", "application/x-ndjson") == "" {
			return
		}
		lines, err := exchange.DecodeSubsystemRecords(r.Body, healthcode.MaxSubsystemBatch)
		var res *healthcode.SubsystemPushResult
		if err == nil {
			res, err = exchange.Push(r.Context(), svc, lines)
		}
		respondPush(w, r, "push sub-system records", res, err, answer)
	})
}

// machineRequest checks the caller and the body's media type of a machine
// client's push and returns the media type, one of types. Otherwise it
// answers the error and returns "": 401 UNAUTHENTICATED without a caller,
// 403 FORBIDDEN with forbidden when may refuses the caller, 415 INVALID for
// another Content-Type.
func machineRequest(w http.ResponseWriter, r *http.Request, may func(*healthcode.Actor) bool, forbidden string, types ...string) string {
	a := healthcode.ActorFromContext(r.Context())
	if a == nil {
		unauthenticated(w)
		return ""
	}
	if !may(a) {
		writeError(w, http.StatusForbidden, healthcode.EFORBIDDEN, forbidden)
		return ""
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(types, mt) {
		writeError(w, http.StatusUnsupportedMediaType, healthcode.EINVALID, "Content-Type 应为 "+strings.Join(types, " 或 "))
		return ""
	}
	return mt
}

// respondPush answers a push: 200 with answer(res), or err as the error
// writer words it (what names the step in the log).
func respondPush[R, A any](w http.ResponseWriter, r *http.Request, what string, res R, err error, answer func(R) A) {
	if err != nil {
		respondError(w, r, nil, what, err)
		return
	}
	writeJSON(w, http.StatusOK, answer(res))
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
	medical := func(a *healthcode.Actor) bool { return a.Kind == healthcode.ActorMachine && a.InstitutionID != 0 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt := machineRequest(w, r, medical, "仅限医疗机构的接口密钥上报医学状态", "application/json", "application/x-ndjson")
		if mt == "" {
			return
		}
		records, err := exchange.DecodeMedicalEvents(r.Body, mt == "application/x-ndjson")
		var res *healthcode.MedicalEventPushResult
		if err == nil {
			res, err = svc.RecordMedicalEvents(r.Context(), records)
		}
		respondPush(w, r, "record medical events", res, err, medicalAnswer)
	})
}

func medicalAnswer(res *healthcode.MedicalEventPushResult) MedicalEventsAnswer {
	out := MedicalEventsAnswer{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: res.Rejected,
		Records: make([]MedicalEventRecord, len(res.Records))}
	for i, rec := range res.Records {
		out.Records[i] = MedicalEventRecord{Line: rec.Line, RecordID: rec.RecordID, Status: rec.Status,
			Reason: rec.Reason, Message: rec.Message, EventID: idString(rec.EventID), Colour: string(rec.Colour)}
	}
	return out
}
