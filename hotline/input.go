package hotline

import (
	"net/http"
	"unicode/utf8"

	"healthcode"
)

// Validation of the ticket service's input that needs this package's enums.
// The root package cannot import them, so the checks of a new ticket and of
// a rating live here and are called by the service (CONTRIBUTING.md, "A
// service method"); the fields that need no enum are checked by the root
// type's Validate (healthcode.NewTicket.Validate), which ValidateNew calls.

// MaxRatingComment bounds the comment of a resident's rating, in characters.
const MaxRatingComment = 500

// Rating is a resident's rating of the latest answer to their ticket
// (TicketService.RateTicket).
type Rating struct {
	Satisfaction Satisfaction
	Comment      string
}

// Validate checks the satisfaction (one of Satisfactions) and the comment's
// length (at most MaxRatingComment characters). Any caller. Errors: INVALID
// naming the field.
func (r Rating) Validate() error {
	if !r.Satisfaction.Valid() {
		return healthcode.FieldError("满意度", "应为 SATISFIED、BASICALLY_SATISFIED 或 DISSATISFIED")
	}
	if utf8.RuneCountInString(r.Comment) > MaxRatingComment {
		return healthcode.FieldError("评价内容", "不超过 %d 个字", MaxRatingComment)
	}
	return nil
}

// ValidateNew normalises and checks a new ticket (an operator's
// registration or a resident's appeal) in place: the kind (one of Kinds),
// the urgency (an empty one becomes Normal; one of Urgencies), then the
// fields healthcode.NewTicket.Validate checks, that a code appeal names a
// person, and the evidence: at most healthcode.MaxEvidenceBytes, a PNG, a
// JPEG or a PDF by its content, which must agree with a declared type;
// EvidenceContentType becomes the sniffed type ("" without evidence). The
// first problem is returned. Everything that needs the database is the
// service's check. Any caller. Errors: INVALID naming the field.
func ValidateNew(in *healthcode.NewTicket) error {
	evidence, declared := in.Evidence, in.EvidenceContentType
	if !Kind(in.Kind).Valid() {
		return healthcode.FieldError("工单类型", "应为 CONSULTATION、COMPLAINT、SUGGESTION 或 CODE_APPEAL")
	}
	if in.Urgency == "" {
		in.Urgency = string(Normal)
	}
	if !Urgency(in.Urgency).Valid() {
		return healthcode.FieldError("紧急程度", "应为 NORMAL 或 URGENT")
	}
	if err := in.Validate(); err != nil {
		return err
	}
	if in.Kind == string(CodeAppeal) && in.PersonID == 0 {
		return healthcode.FieldError("申诉人", "赋码申诉须关联人员")
	}
	in.EvidenceContentType = ""
	if len(evidence) > 0 {
		if len(evidence) > healthcode.MaxEvidenceBytes {
			return healthcode.FieldError("证明材料", "文件不能超过 512 KB")
		}
		sniffed := http.DetectContentType(evidence)
		if (sniffed != "image/png" && sniffed != "image/jpeg" && sniffed != "application/pdf") ||
			(declared != "" && declared != sniffed) {
			return healthcode.FieldError("证明材料", "只接受 PNG、JPEG 图片或 PDF 文件")
		}
		in.EvidenceContentType = sniffed
	}
	return nil
}
