package hotline_test

import (
	"strings"
	"testing"

	"healthcode"
	"healthcode/hotline"
)

// wantInvalid checks that err is INVALID with message msg ("" for nil).
func wantInvalid(t *testing.T, name string, err error, msg string) {
	t.Helper()
	switch {
	case msg == "" && err != nil:
		t.Errorf("%s: err = %v, want nil", name, err)
	case msg != "" && (healthcode.ErrorCode(err) != healthcode.EINVALID || healthcode.ErrorMessage(err) != msg):
		t.Errorf("%s: err = %v, want INVALID %q", name, err, msg)
	}
}

func TestRatingValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   hotline.Rating
		msg  string
	}{
		{"satisfied", hotline.Rating{Satisfaction: hotline.Satisfied}, ""},
		{"basically", hotline.Rating{Satisfaction: hotline.BasicallySatisfied, Comment: "还行"}, ""},
		{"dissatisfied", hotline.Rating{Satisfaction: hotline.Dissatisfied, Comment: strings.Repeat("差", hotline.MaxRatingComment)}, ""},
		{"empty", hotline.Rating{}, "满意度：应为 SATISFIED、BASICALLY_SATISFIED 或 DISSATISFIED"},
		{"unknown", hotline.Rating{Satisfaction: "GOOD"}, "满意度：应为 SATISFIED、BASICALLY_SATISFIED 或 DISSATISFIED"},
		{"long comment", hotline.Rating{Satisfaction: hotline.Satisfied, Comment: strings.Repeat("好", hotline.MaxRatingComment+1)}, "评价内容：不超过 500 个字"},
	} {
		wantInvalid(t, c.name, c.in.Validate(), c.msg)
	}
}

func TestValidateNew(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	good := func() healthcode.NewTicket {
		return healthcode.NewTicket{Kind: string(hotline.Complaint), Subject: " 投诉 ", Description: "内容", CallerPhone: "13812341234"}
	}
	in := good()
	if err := hotline.ValidateNew(&in); err != nil || in.Urgency != string(hotline.Normal) || in.Subject != "投诉" {
		t.Fatalf("%+v: %v", in, err)
	}
	for _, c := range []struct {
		name string
		edit func(*healthcode.NewTicket)
		msg  string
	}{
		{"urgent", func(n *healthcode.NewTicket) { n.Urgency = string(hotline.Urgent) }, ""},
		{"kind", func(n *healthcode.NewTicket) { n.Kind = "PRAISE" }, "工单类型：应为 CONSULTATION、COMPLAINT、SUGGESTION 或 CODE_APPEAL"},
		{"no kind", func(n *healthcode.NewTicket) { n.Kind = "" }, "工单类型：应为 CONSULTATION、COMPLAINT、SUGGESTION 或 CODE_APPEAL"},
		{"urgency", func(n *healthcode.NewTicket) { n.Urgency = "LOW" }, "紧急程度：应为 NORMAL 或 URGENT"},
		{"kind before urgency", func(n *healthcode.NewTicket) { n.Kind, n.Urgency = "X", "Y" }, "工单类型：应为 CONSULTATION、COMPLAINT、SUGGESTION 或 CODE_APPEAL"},
		{"root fields", func(n *healthcode.NewTicket) { n.Description = " " }, "诉求内容：不能为空"},
		{"appeal without person", func(n *healthcode.NewTicket) { n.Kind = string(hotline.CodeAppeal) }, "申诉人：赋码申诉须关联人员"},
		{"appeal", func(n *healthcode.NewTicket) { n.Kind, n.PersonID = string(hotline.CodeAppeal), 7 }, ""},
		{"pdf", func(n *healthcode.NewTicket) { n.Evidence = pdf }, ""},
		{"declared png", func(n *healthcode.NewTicket) { n.Evidence, n.EvidenceContentType = png, "image/png" }, ""},
		{"declared wrongly", func(n *healthcode.NewTicket) { n.Evidence, n.EvidenceContentType = png, "application/pdf" }, "证明材料：只接受 PNG、JPEG 图片或 PDF 文件"},
		{"text", func(n *healthcode.NewTicket) { n.Evidence = []byte("plain text") }, "证明材料：只接受 PNG、JPEG 图片或 PDF 文件"},
		{"too large", func(n *healthcode.NewTicket) {
			n.Evidence = append(append([]byte{}, pdf...), make([]byte, healthcode.MaxEvidenceBytes)...)
		}, "证明材料：文件不能超过 512 KB"},
		{"person before evidence", func(n *healthcode.NewTicket) { n.Kind, n.Evidence = string(hotline.CodeAppeal), []byte("x") }, "申诉人：赋码申诉须关联人员"},
	} {
		in := good()
		c.edit(&in)
		wantInvalid(t, c.name, hotline.ValidateNew(&in), c.msg)
	}
	// The evidence's type is the sniffed one; without evidence there is none.
	for _, c := range []struct {
		evidence       []byte
		declared, want string
	}{{pdf, "", "application/pdf"}, {png, "image/png", "image/png"}, {nil, "image/png", ""}} {
		in := good()
		in.Evidence, in.EvidenceContentType = c.evidence, c.declared
		if err := hotline.ValidateNew(&in); err != nil || in.EvidenceContentType != c.want {
			t.Errorf("evidence %q declared %q: type %q, %v; want %q", c.evidence[:min(len(c.evidence), 8)], c.declared, in.EvidenceContentType, err, c.want)
		}
	}
}
